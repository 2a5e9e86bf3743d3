using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary><c>exec_js</c> through the real session: the sandbox, its helpers and their sub-calls under the run's rules.</summary>
public class ExecJsIntegrationTests
{
    private static readonly string s_log = string.Concat(Enumerable.Range(0, 500).Select(i => $"2024-01-{i % 28 + 1:D2} user{i % 7} amount={i * 3} {(i % 5 == 0 ? "FAILED" : "OK")}\n"));

    [Fact]
    public async Task ExecJs_ComputesOverTheContext_AndGlobalsPersistAcrossIterations()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "var failed = context.split('\\n').filter(function (l) { return l.indexOf('FAILED') >= 0; }).length; print('failed', failed);" })),
            _ => TestChatClient.Calls(("exec_js", new { code = "set_variable('answer', 'failed=' + failed); failed * 2" })),
            _ => TestChatClient.Calls(("final_var", new { name = "answer" })));
        var result = await new RecursiveLanguageModel(root).QueryAsync("How many FAILED lines?", s_log);

        int expected = s_log.Split('\n').Count(l => l.Contains("FAILED", StringComparison.Ordinal));
        Assert.Contains($"failed {expected}", TestChatClient.LastToolResults(root.Requests[1])[0]);
        Assert.Contains($"{expected * 2}", TestChatClient.LastToolResults(root.Requests[2])[0]);
        Assert.Equal($"failed={expected}", result.Answer);
        Assert.Equal(RlmStopReason.FinalVariable, result.StopReason);
    }

    [Fact]
    public async Task ExecJs_GrepHelper_UsesTheSameLineNumbersAsTheGrepTool()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "var h = grep('amber=', 5); print(h.length); h.length === 0 ? 'none' : h[0].line" }), ("grep", new { pattern = "user3 amount=30 " })),
            _ => TestChatClient.Calls(("exec_js", new { code = "grep('user3 amount=30 ', 5)[0].line" })),
            _ => TestChatClient.Calls(("final", new { answer = "x" })));
        await new RecursiveLanguageModel(root).QueryAsync("q", s_log);

        var first = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.Contains("none", first[0]);
        Assert.StartsWith("1 matching line", first[1]);
        Assert.Contains("\n10 @", first[1]);
        Assert.Contains("10", TestChatClient.LastToolResults(root.Requests[2])[0]);
    }

    [Fact]
    public async Task ExecJs_LlmQueryBatched_GoesThroughTheDispatcherInParallel_AndCountsAsSubCalls()
    {
        int inFlight = 0, peak = 0;
        var allIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = async (messages, options, ct) =>
            {
                int now = Interlocked.Increment(ref inFlight);
                lock (allIn)
                {
                    peak = Math.Max(peak, now);
                }

                if (now == 4)
                {
                    allIn.TrySetResult();
                }

                await Task.WhenAny(allIn.Task, Task.Delay(10_000, ct));
                Interlocked.Decrement(ref inFlight);
                return TestChatClient.Text("echo:" + messages[^1].Text);
            },
        };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "var r = llm_query_batched(['a', 'b', 'c', 'd']); print(r.join(',')); llm_query('e')" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxConcurrency = 4 }).QueryAsync("q", s_log);

        string output = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.Contains("echo:a,echo:b,echo:c,echo:d", output);
        Assert.Contains("echo:e", output);
        Assert.Equal(4, peak);
        Assert.Equal(5, result.Statistics.SubCalls);
        Assert.Equal(1, result.Statistics.MaxDepthReached);
        Assert.All(worker.Requests, r => Assert.True(TestChatClient.IsLeaf(r.Options)));
    }

    [Fact]
    public async Task ExecJs_LlmQuery_RespectsTheSubCallBudget()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "llm_query_batched(['1', '2', '3']).join('|')" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxSubCalls = 2 }).QueryAsync("q", s_log);

        string output = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.Contains("w|w|Error: the sub-call budget of 2 is spent", output);
        Assert.Equal(2, worker.Requests.Count);
    }

    [Fact]
    public async Task ExecJs_LlmQuery_PromptOverTheLeafLimit_IsAnErrorWithoutACall()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "llm_query(context)" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxLeafChars = 1_000 }).QueryAsync("q", s_log);

        Assert.Contains("more than a sub-call may receive (1,000)", TestChatClient.LastToolResults(root.Requests[1])[0]);
        Assert.Empty(worker.Requests);
        Assert.Equal(0, result.Statistics.SubCalls);
    }

    [Fact]
    public async Task ExecJs_SyntaxError_ComesBackWithLineAndColumn_AndModernCodeRuns()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "const f = (x) => x * 2;\nconst g = ;" })),
            _ => TestChatClient.Calls(("exec_js", new { code = "const f = (x) => x * 2; const {n} = {n: 21}; f(n)" })),
            _ => TestChatClient.Calls(("final", new { answer = "ok" })));
        var result = await new RecursiveLanguageModel(root).QueryAsync("q", s_log);

        string error = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.StartsWith("Error: SyntaxError:", error);
        Assert.Contains("(line 2, column 11", error);
        Assert.Contains("42", TestChatClient.LastToolResults(root.Requests[2])[0]);
        Assert.Equal("ok", result.Answer);
    }

    [Fact]
    public async Task ExecJs_InfiniteLoop_HitsALimit_AndTheEngineStaysUsable()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "var keep = 5; while (true) {}" })),
            _ => TestChatClient.Calls(("exec_js", new { code = "1 + 1" })),
            _ => TestChatClient.Calls(("final", new { answer = "ok" })));
        var options = new RlmOptions { JavaScriptTimeout = TimeSpan.FromMilliseconds(500), JavaScriptMaxStatements = 1_000_000 };
        await new RecursiveLanguageModel(root, options: options).QueryAsync("q", s_log);

        Assert.StartsWith("Error:", TestChatClient.LastToolResults(root.Requests[1])[0]);
        Assert.Contains("2", TestChatClient.LastToolResults(root.Requests[2])[0]);
    }
}
