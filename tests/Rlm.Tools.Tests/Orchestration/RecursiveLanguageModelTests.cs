using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public class RecursiveLanguageModelTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 200).Select(i => $"entry {i:D3}: {(i == 137 ? "the vault code is 4417" : "nothing here")}\n"));

    [Fact]
    public async Task Query_RunsEveryCallOfAReply_ResultsComeBackInCallOrder()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("set_variable", new { name = "v", value = "kept" }), ("grep", new { pattern = "vault" }), ("peek", new { start = 0, end = 9 })),
            _ => TestChatClient.Calls(("final", new { answer = "4417" })));
        var result = await new RecursiveLanguageModel(root).QueryAsync("What is the vault code?", s_context);

        Assert.Equal("4417", result.Answer);
        Assert.Equal(RlmStopReason.Final, result.StopReason);
        Assert.True(result.IsFinal);
        var results = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.Equal(3, results.Count);
        Assert.StartsWith("Stored 'v'", results[0]);
        Assert.Contains("137 @", results[1]);
        Assert.EndsWith("entry 000", results[2]);
        Assert.Equal(2, result.Statistics.RootIterations);
        Assert.Equal(1, result.Statistics.ToolCalls["grep"]);
        Assert.Equal(1, result.Statistics.ToolCalls["final"]);
    }

    [Fact]
    public async Task Query_ContextIsNeverInThePrompt_PromptStatesItsShape()
    {
        string secret = "UNIQUE-MARKER-" + Guid.NewGuid().ToString("N");
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "x" })));
        await new RecursiveLanguageModel(root).QueryAsync("q?", s_context + secret);

        var request = root.Requests[0];
        Assert.DoesNotContain(request, m => m.Text.Contains(secret, StringComparison.Ordinal));
        string system = request[0].Text;
        Assert.Contains($"{s_context.Length + secret.Length:N0} characters", system);
        Assert.Contains("201 lines", system);
        Assert.Contains("ES2023", system);
        Assert.Contains("<question>\nq?\n</question>", request[1].Text);
        Assert.Contains("Budget: 30 iterations; 100 sub-calls left", request[1].Text);
        var tools = root.Options[0]!.Tools!.OfType<AIFunctionDeclaration>().Select(t => t.Name);
        Assert.Equal(["peek", "peek_lines", "grep", "chunk", "sub_llm", "exec_js", "set_variable", "get_variable", "final", "final_var"], tools);
    }

    [Fact]
    public async Task Query_EachTurnTellsIterationsAndSubCallsLeft()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 50 })),
            _ => TestChatClient.Calls(("peek", new { start = 0, end = 1 })));
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxIterations = 5, MaxSubCalls = 7 }).QueryAsync("q?", s_context);

        Assert.Equal("[budget] iteration 1 of 5 done: 4 left; 6 sub-calls left.", root.Requests[1][^1].Text);
        Assert.Equal("[budget] iteration 2 of 5 done: 3 left; 6 sub-calls left.", root.Requests[2][^1].Text);
    }

    [Fact]
    public async Task Query_ReplyWithoutCalls_GetsOneNudge_ThenEndsWithTextReply()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Text("I think 4417"), _ => TestChatClient.Text("4417, really"));
        var result = await new RecursiveLanguageModel(root).QueryAsync("code?", s_context);

        Assert.Equal(RlmStopReason.TextReply, result.StopReason);
        Assert.Equal("4417, really", result.Answer);
        Assert.False(result.IsFinal);
        Assert.Contains("call final(answer)", root.Requests[1][^1].Text);
        Assert.Equal(2, root.Requests.Count);
    }

    [Fact]
    public async Task Query_NudgeFollowedByFinal_EndsWithFinal()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Text("thinking"), _ => TestChatClient.Calls(("final", new { answer = "4417" })));
        var result = await new RecursiveLanguageModel(root).QueryAsync("code?", s_context);
        Assert.Equal(RlmStopReason.Final, result.StopReason);
    }

    [Fact]
    public async Task Query_IterationLimit_OneLastCallWithoutTools()
    {
        var client = new TestChatClient();
        client.GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(options?.ToolMode is NoneChatToolMode
            ? TestChatClient.Text("best effort: 4417")
            : TestChatClient.Calls(("grep", new { pattern = "vault" })));
        var result = await new RecursiveLanguageModel(client, options: new RlmOptions { MaxIterations = 3 }).QueryAsync("code?", s_context);

        Assert.Equal(RlmStopReason.IterationLimit, result.StopReason);
        Assert.Equal("best effort: 4417", result.Answer);
        Assert.Equal(4, client.Requests.Count);
        Assert.IsType<NoneChatToolMode>(client.Requests[3].Options!.ToolMode);
        Assert.Contains("Tools are now disabled", client.Requests[3].Messages[^1].Text);
        Assert.Contains("This is your last iteration", client.Requests[2].Messages[^1].Text);
        Assert.Equal(3, result.Statistics.Iterations);
        Assert.Equal(4, result.Statistics.ModelCalls);
    }

    [Fact]
    public async Task Query_UnknownToolAndUnreadableArguments_AreToolResults()
    {
        var bad = new FunctionCallContent("c2", "peek", null) { Exception = new FormatException("not JSON") };
        var root = new ScriptedChatClient(
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "read_everything", new Dictionary<string, object?>()), bad])),
            _ => TestChatClient.Calls(("final_var", new { name = "nope" })),
            _ => TestChatClient.Calls(("final", new { answer = "recovered" })));
        var result = await new RecursiveLanguageModel(root).QueryAsync("q?", s_context);

        var first = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.StartsWith("Error: unknown tool 'read_everything'. The tools are: peek, peek_lines", first[0]);
        Assert.Contains("could not be read (not JSON)", first[1]);
        Assert.Contains("no variable named 'nope'", TestChatClient.LastToolResults(root.Requests[2])[0]);
        Assert.Equal("recovered", result.Answer);
    }

    [Fact]
    public async Task SubCalls_RunConcurrently_NeverBeyondMaxConcurrency()
    {
        const int slots = 3;
        int inFlight = 0, peak = 0;
        var allSlotsBusy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                int now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref peak, now);
                if (now == slots)
                {
                    allSlotsBusy.TrySetResult();
                }

                // Hold the slot until all slots are busy at once (or give up after 10 s, which fails the test below).
                await Task.WhenAny(allSlotsBusy.Task, Task.Delay(10_000, ct));
                Interlocked.Decrement(ref inFlight);
                return TestChatClient.Text("part");
            },
        };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls([.. Enumerable.Range(0, 8).Select(i => ("sub_llm", (object)new { query = "q", start = i * 100, end = i * 100 + 100 }))]),
            _ => TestChatClient.Calls(("final", new { answer = "ok" })));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxConcurrency = slots }).QueryAsync("q?", s_context);

        Assert.True(allSlotsBusy.Task.IsCompleted, "the sub-calls never ran three at a time");
        Assert.Equal(slots, peak);
        Assert.Equal(slots, result.Statistics.PeakConcurrency);
        Assert.Equal(8, result.Statistics.SubCalls);
        Assert.All(TestChatClient.LastToolResults(root.Requests[1]), r => Assert.Equal("part", r));
    }

    [Fact]
    public async Task Depth3_WithMaxConcurrency1_FinishesAndEnforcesDepth()
    {
        var client = new TestChatClient();
        client.GetResponseAsyncCallback = (messages, options, _) =>
        {
            if (TestChatClient.IsLeaf(options))
            {
                return Task.FromResult(TestChatClient.Text("leaf"));
            }

            var results = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToList();
            if (results.Count == 0)
            {
                int length = int.Parse(System.Text.RegularExpressions.Regex.Match(messages[1].Text, @"has ([\d,]+) characters").Groups[1].Value.Replace(",", ""));
                return Task.FromResult(TestChatClient.Calls(("sub_llm", new { query = "left", start = 0, end = length / 2 }), ("sub_llm", new { query = "right", start = length / 2, end = length })));
            }

            return Task.FromResult(TestChatClient.Calls(("final", new { answer = "(" + string.Join(" ", results.Select(r => r.Result)) + ")" })));
        };
        var options = new RlmOptions { MaxDepth = 3, MaxConcurrency = 1 };
        var run = new RecursiveLanguageModel(client, options: options).QueryAsync("q?", s_context);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("(((leaf leaf) (leaf leaf)) ((leaf leaf) (leaf leaf)))", result.Answer);
        Assert.Equal(3, result.Statistics.MaxDepthReached);
        Assert.Equal(2 + 4 + 8, result.Statistics.SubCalls);
        Assert.Equal(1, result.Statistics.PeakConcurrency);
        Assert.Equal(8, client.Requests.Count(r => TestChatClient.IsLeaf(r.Options)));
        // Sessions at depth 1 and 2 use the worker prompt; leaves the leaf prompt.
        Assert.Equal(6, client.Requests.Count(r => !TestChatClient.IsLeaf(r.Options) && r.Messages[0].Text.StartsWith("You are a worker model", StringComparison.Ordinal) && r.Messages.Count == 2));
    }

    [Fact]
    public async Task Usage_IsSummedOverEveryCallAtEveryDepth()
    {
        var usage = () => new UsageDetails { InputTokenCount = 100, OutputTokenCount = 7, TotalTokenCount = 107 };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(usage(), ("sub_llm", new { query = "a", start = 0, end = 100 }), ("sub_llm", new { query = "b", start = 100, end = 200 })),
            _ => TestChatClient.Calls(usage(), ("final", new { answer = "done" })));
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "w")) { Usage = usage(), ModelId = "small-model" }) };
        var result = await new RecursiveLanguageModel(root, worker).QueryAsync("q?", s_context);

        Assert.Equal(4, result.Statistics.ModelCalls);
        Assert.Equal(400, result.Usage.InputTokenCount);
        Assert.Equal(28, result.Usage.OutputTokenCount);
        Assert.Equal(200, result.UsageByModel["small-model"].InputTokenCount);
        Assert.Equal(200, result.UsageByModel["root"].InputTokenCount);
    }

    [Fact]
    public async Task Cancellation_ReachesTheFakeClient_AndPropagates()
    {
        var started = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                started.TrySetResult(ct);
                await Task.Delay(Timeout.Infinite, ct);
                return TestChatClient.Text("never");
            },
        };
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "slow", start = 0, end = 10 })));
        using var cts = new CancellationTokenSource();
        var run = new RecursiveLanguageModel(root, worker).QueryAsync("q?", s_context, cts.Token);
        var token = await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public async Task FailedSubCall_IsAResultForItsParent_SiblingsSucceed()
    {
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, _, _) => messages[^1].Text.Contains("boom", StringComparison.Ordinal)
                ? throw new HttpRequestException("upstream 500")
                : Task.FromResult(TestChatClient.Text("fine")),
        };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "boom", start = 0, end = 10 }), ("sub_llm", new { query = "calm", start = 10, end = 20 })),
            _ => TestChatClient.Calls(("final", new { answer = "partial" })));
        var options = new RlmOptions { MaxModelRetries = 2, ModelRetryBaseDelay = TimeSpan.FromMilliseconds(1) };
        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);

        var results = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.StartsWith("Error: the sub-call failed: the worker model request failed after 3 attempts: connection failed: upstream 500", results[0]);
        Assert.Equal("fine", results[1]);
        Assert.Equal(1, result.Statistics.FailedSubCalls);
        Assert.Equal(1, result.Statistics.FailedModelCalls);
        Assert.Equal(2, result.Statistics.ModelRetries);
        Assert.Equal(4, worker.Requests.Count); // 3 attempts for "boom", 1 for "calm"
        Assert.False(result.AllSubCallsFailed);
        Assert.Equal("partial", result.Answer);
    }

    [Fact]
    public async Task SubCallBudget_IsReservedBeforeDispatch_ParallelCallsCannotOvershoot()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls([.. Enumerable.Range(0, 6).Select(i => ("sub_llm", (object)new { query = "q", start = i, end = i + 5 }))]),
            _ => TestChatClient.Calls(("final", new { answer = "x" })));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxSubCalls = 3 }).QueryAsync("q?", s_context);

        Assert.Equal(3, worker.Requests.Count);
        Assert.Equal(3, result.Statistics.SubCalls);
        var results = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.Equal(3, results.Count(r => r.Contains("sub-call budget of 3 is spent", StringComparison.Ordinal)));
        Assert.Contains("0 sub-calls left", root.Requests[1][^1].Text);
    }

    [Fact]
    public async Task LeafSliceTooLarge_IsAnErrorTellingTheModelToSplit()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 500 })));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxLeafChars = 100 }).QueryAsync("q?", s_context);

        var error = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.StartsWith("Error: the slice has 500 characters, more than a leaf sub-call at depth 1 may receive (100)", error);
        Assert.Contains("chunk(100)", error);
        Assert.Empty(worker.Requests);
        Assert.Equal(0, result.Statistics.SubCalls);
    }

    [Fact]
    public async Task Leaf_GetsTheSliceTextAndNoTools()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("4417")) };
        int at = s_context.IndexOf("the vault", StringComparison.Ordinal);
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "code?", start = at, end = at + 22 })));
        await new RecursiveLanguageModel(root, worker, new RlmOptions { WorkerModelId = "mini" }).QueryAsync("q?", s_context);

        var (messages, options) = Assert.Single(worker.Requests);
        Assert.Null(options!.Tools);
        Assert.Equal("mini", options.ModelId);
        Assert.Contains("<context characters=\"22\">\nthe vault code is 4417\n</context>", messages[1].Text);
        Assert.Contains("<question>\ncode?\n</question>", messages[1].Text);
        Assert.Equal("4417", TestChatClient.LastToolResults(root.Requests[1])[0]);
    }

    [Fact]
    public async Task Trajectory_RecordsSessionsModelCallsToolCallsAndLeaves()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "a", start = 0, end = 10 }), ("sub_llm", new { query = "b", start = 10, end = 20 })),
            _ => TestChatClient.Calls(("final", new { answer = "x" })));
        var result = await new RecursiveLanguageModel(root, worker).QueryAsync("q?", s_context);

        var top = result.Trajectory;
        Assert.Equal(RlmTraceKind.Session, top.Kind);
        Assert.Equal(2, top.Children.Count);
        var firstCall = top.Children[0];
        Assert.Equal(RlmTraceKind.ModelCall, firstCall.Kind);
        Assert.Equal(2, firstCall.Children.Count);
        Assert.All(firstCall.Children, c => Assert.StartsWith("sub_llm(query=", c.Label));
        Assert.All(firstCall.Children, c => Assert.Equal(RlmTraceKind.Leaf, Assert.Single(c.Children).Kind));
        Assert.Equal(1, firstCall.Children[0].Children[0].Depth);
        Assert.Equal("x", top.Summary);
    }

    [Fact]
    public async Task Documents_ToolOutputNamesDocumentAndLine()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("grep", new { pattern = "needle" })), _ => TestChatClient.Calls(("final", new { answer = "x" })));
        await new RecursiveLanguageModel(root).QueryAsync("q?", [new RlmDocument("a.md", "hay\nhay"), new RlmDocument("b/c.md", "hay\nthe needle\n")]);

        Assert.Contains("[b/c.md:2]: the needle", TestChatClient.LastToolResults(root.Requests[1])[0]);
        Assert.Contains("across 2 documents", root.Requests[0][1].Text);
    }

    [Fact]
    public async Task Progress_ReportsIterationsToolCallsAndSubCalls()
    {
        var events = new List<RlmEvent>();
        var progress = new SyncProgress(e => { lock (events) { events.Add(e); } });
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "a", start = 0, end = 10 }), ("sub_llm", new { query = "b", start = 10, end = 20 })),
            _ => TestChatClient.Calls(("final", new { answer = "x" })));
        await new RecursiveLanguageModel(root, worker, new RlmOptions { Progress = progress }).QueryAsync("q?", s_context);

        Assert.Equal(2, events.Count(e => e is RlmIterationStarted { Depth: 0 }));
        var parallel = Assert.Single(events.OfType<RlmParallelCalls>());
        Assert.Equal(["sub_llm", "sub_llm"], parallel.Names);
        Assert.Equal("2 calls in parallel: sub_llm(...) x2", parallel.Describe());
        Assert.Equal(2, events.Count(e => e is RlmSubCallStarted { Depth: 1 }));
        Assert.IsType<RlmRunCompleted>(events[^1]);
    }

    [Fact]
    public async Task Query_InvalidArguments_Throw()
    {
        var rlm = new RecursiveLanguageModel(new ScriptedChatClient());
        await Assert.ThrowsAsync<ArgumentException>(() => rlm.QueryAsync(" ", "ctx"));
        await Assert.ThrowsAsync<ArgumentNullException>(() => rlm.QueryAsync("q", (string)null!));
        await Assert.ThrowsAsync<ArgumentException>(() => rlm.QueryAsync("q", Array.Empty<RlmDocument>()));
        Assert.Throws<ArgumentNullException>(() => new RecursiveLanguageModel(null!));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private sealed class SyncProgress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }
}
