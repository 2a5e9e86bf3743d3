using Rlm.Tools.Context;
using System.Net;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public class MemoizedSubCallTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3} of the context\n"));

    private static TestChatClient Worker(Func<int, ChatResponse>? answer = null)
    {
        int calls = 0;
        var worker = new TestChatClient();
        worker.GetResponseAsyncCallback = async (messages, _, ct) =>
        {
            int n = Interlocked.Increment(ref calls);
            await Task.Yield();
            return answer?.Invoke(n) ?? TestChatClient.Text($"answer {n} to {messages[^1].Text.Length} chars", new UsageDetails { InputTokenCount = 50, OutputTokenCount = 5 });
        };
        return worker;
    }

    [Fact]
    public async Task IdenticalSubCalls_InOneReplyAndLater_AreAnsweredOnce_AndCounted()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(
                ("sub_llm", new { query = "What is here?", start = 0, end = 500 }),
                ("sub_llm", new { query = "What is here?", start = 0, end = 500 }),
                ("sub_llm", new { query = "What is here?", start = 0, end = 501 }),
                ("sub_llm", new { query = "What is there?", start = 0, end = 500 })),
            _ => TestChatClient.Calls(("sub_llm", new { query = "What is here?", start = 0, end = 500 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var worker = Worker();
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { WorkerModelId = "w" }).QueryAsync("q", s_context);

        // Three distinct sub-calls (slice 0-500, slice 0-501, another query): three worker requests.
        Assert.Equal(3, worker.Requests.Count);
        Assert.Equal(3, result.Statistics.SubCalls);
        Assert.Equal(2, result.Statistics.MemoizedSubCalls);

        var first = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.Equal(first[0], first[1]);
        Assert.NotEqual(first[0], first[2]);
        Assert.Equal(first[0], TestChatClient.LastToolResults(root.Requests[2]).Single());

        var memoized = Flatten(result.Trajectory).Where(n => n.Label.StartsWith("memoized sub-call", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, memoized.Count);
        Assert.All(memoized, n => Assert.Equal(TextLimitsOneLine(first[0]), n.Summary));
    }

    [Fact]
    public async Task FailedSubCall_IsNotMemoized_TheNextIdenticalCallRunsAgain()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "What is here?", start = 0, end = 500 })),
            _ => TestChatClient.Calls(("sub_llm", new { query = "What is here?", start = 0, end = 500 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var worker = Worker(n => n == 1 ? throw new HttpRequestException("refused", null, HttpStatusCode.BadRequest) : TestChatClient.Text("the answer"));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxModelRetries = 0 }).QueryAsync("q", s_context);

        Assert.Equal(2, worker.Requests.Count);
        Assert.StartsWith("Error", TestChatClient.LastToolResults(root.Requests[1]).Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("the answer", TestChatClient.LastToolResults(root.Requests[2]).Single());
        Assert.Equal(0, result.Statistics.MemoizedSubCalls);
        Assert.Equal(1, result.Statistics.FailedSubCalls);
    }

    [Fact]
    public async Task MemoizeSubCallsOff_EveryCallIsSent()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(
                ("sub_llm", new { query = "What is here?", start = 0, end = 500 }),
                ("sub_llm", new { query = "What is here?", start = 0, end = 500 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var worker = Worker();
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MemoizeSubCalls = false }).QueryAsync("q", s_context);

        Assert.Equal(2, worker.Requests.Count);
        Assert.Equal(2, result.Statistics.SubCalls);
        Assert.Equal(0, result.Statistics.MemoizedSubCalls);
    }

    [Fact]
    public async Task LlmQueryBatched_IdenticalPrompts_OneWorkerRequest()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "llm_query_batched(['same prompt', 'same prompt', 'other prompt']).join('|')" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var worker = Worker(n => TestChatClient.Text($"answer {n}"));
        var result = await new RecursiveLanguageModel(root, worker).QueryAsync("q", s_context);

        Assert.Equal(2, worker.Requests.Count);
        string js = TestChatClient.LastToolResults(root.Requests[1]).Single();
        var answers = js["=> ".Length..].Split('|');
        Assert.Equal(answers[0], answers[1]);
        Assert.NotEqual(answers[0], answers[2]);
        Assert.Equal(1, result.Statistics.MemoizedSubCalls);
    }

    [Fact]
    public async Task MemoizedSubCall_IsAnEventOfTheStream()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "What is here?", start = 0, end = 500 }), ("sub_llm", new { query = "What is here?", start = 0, end = 500 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, Worker()).QueryStreamingAsync("q", s_context))
        {
            events.Add(e);
        }

        var memoized = Assert.Single(events.OfType<RlmSubCallMemoized>());
        Assert.Equal(1, memoized.Depth);
        Assert.Equal(500, memoized.Chars);
        Assert.Single(events.OfType<RlmSubCallStarted>());
        Assert.Equal(1, events.OfType<RlmRunCompleted>().Single().Result.Statistics.MemoizedSubCalls);
    }

    [Fact]
    public async Task RecursiveSession_AskingItsOwnQuestionAgain_IsNotItsOwnMemo()
    {
        // MaxDepth 2: the depth-1 session repeats the question and slice it was given. The depth is part of the key, so it
        // runs a leaf at depth 2 instead of waiting on itself.
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "What is here?", start = 0, end = 500 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        int sessionSteps = 0;
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(TestChatClient.IsLeaf(options)
                ? TestChatClient.Text("leaf answer")
                : Interlocked.Increment(ref sessionSteps) == 1
                    ? TestChatClient.Calls(("sub_llm", new { query = "What is here?", start = 0, end = 500 }))
                    : TestChatClient.Calls(("final", new { answer = TestChatClient.LastToolResults(messages).Single() }))),
        };
        var run = new RecursiveLanguageModel(root, worker, new RlmOptions { MaxDepth = 2 }).QueryAsync("q", s_context);

        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))));
        var result = await run;
        Assert.Equal("leaf answer", TestChatClient.LastToolResults(root.Requests[1]).Single());
        Assert.Equal(2, result.Statistics.SubCalls);
        Assert.Equal(0, result.Statistics.MemoizedSubCalls);
    }

    private static string TextLimitsOneLine(string text) => Rlm.Tools.Context.TextLimits.OneLine(text, 100);

    private static IEnumerable<RlmTraceNode> Flatten(RlmTraceNode node) => new[] { node }.Concat(node.Children.SelectMany(Flatten));
}
