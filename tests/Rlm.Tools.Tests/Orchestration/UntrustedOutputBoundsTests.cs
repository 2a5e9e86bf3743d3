using System.Diagnostics;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>What a model's output can make the engine do is bounded: calls per reply, memoized sub-call loops, trace nodes.</summary>
public class UntrustedOutputBoundsTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 200).Select(i => $"line {i:D3} of the context\n"));

    private static (string Name, object Args)[] Peeks(int count) =>
        [.. Enumerable.Range(0, count).Select(i => ("peek_lines", (object)new { start = i % 100 + 1, count = 1 }))];

    [Fact]
    public async Task ReplyWith500Calls_First32Run_468GetOneErrorEach_RunContinues()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(Peeks(500)),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var result = await new RecursiveLanguageModel(root, null, new RlmOptions { StreamRootResponses = false }).QueryAsync("q", s_context);

        Assert.Equal("done", result.Answer);
        var calls = root.Requests[1].Single(m => m.Role == ChatRole.Assistant).Contents.OfType<FunctionCallContent>().ToList();
        var results = root.Requests[1].Single(m => m.Role == ChatRole.Tool).Contents.OfType<FunctionResultContent>().ToList();
        Assert.Equal(calls.Select(c => c.CallId), results.Select(r => r.CallId)); // every call has its result, in order
        Assert.All(results.Take(32), r => Assert.DoesNotContain("not run", r.Result?.ToString(), StringComparison.Ordinal));
        Assert.All(results.Skip(32), r => Assert.StartsWith("Error: not run: a reply may make at most 32 function calls", r.Result?.ToString(), StringComparison.Ordinal));
        Assert.Equal(32, result.Statistics.ToolCalls["peek_lines"]);
        Assert.Equal(468, result.Statistics.RefusedFunctionCalls);

        // One node for the refused calls, not one each.
        var modelCall = result.Trajectory.Children[0];
        Assert.Equal(33, modelCall.Children.Count);
        Assert.True(modelCall.Children[^1].IsError);
        Assert.Contains("468 more function calls not run", modelCall.Children[^1].Label, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamedReplyWith100Calls_OnlyTheCapRuns()
    {
        var root = new StreamingScriptClient(
            (_, _) => StreamingScriptClient.Updates([.. Peeks(100).Select(c => StreamingScriptClient.Call(c.Name, c.Args))]));
        var result = await new RecursiveLanguageModel(root, null, new RlmOptions { MaxFunctionCallsPerReply = 10 }).QueryAsync("q", s_context);

        Assert.Equal("done", result.Answer);
        var results = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.Equal(100, results.Count);
        Assert.Equal(90, results.Count(r => r.StartsWith("Error: not run", StringComparison.Ordinal)));
        Assert.Equal(10, result.Statistics.ToolCalls["peek_lines"]);
        Assert.Equal(90, result.Statistics.RefusedFunctionCalls);
    }

    [Fact]
    public async Task CustomToolCallsOverTheCap_AreNotInvoked()
    {
        int invoked = 0;
        var tool = AIFunctionFactory.Create(() => Interlocked.Increment(ref invoked), "count");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls([.. Enumerable.Range(0, 40).Select(_ => ("count", (object)new { }))]),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var result = await new RecursiveLanguageModel(root, null, new RlmOptions { Tools = [tool], StreamRootResponses = false }).QueryAsync("q", s_context);

        Assert.Equal(32, invoked);
        Assert.Equal(8, result.Statistics.RefusedFunctionCalls);
        Assert.Equal(8, TestChatClient.LastToolResults(root.Requests[1]).Count(r => r.StartsWith("Error: not run", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task MemoizedLlmQueryLoop_EndsAtTheSubCallBudget_AndTheScriptTimeLimit()
    {
        var timeout = TimeSpan.FromSeconds(2);
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "let last; while (true) { last = llm_query('the same question'); } last" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var events = 0;
        var options = new RlmOptions { MaxSubCalls = 50, JavaScriptTimeout = timeout, StreamRootResponses = false, Progress = new CountingProgress(() => Interlocked.Increment(ref events)) };
        var stopwatch = Stopwatch.StartNew();
        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("q", s_context);
        stopwatch.Stop();

        // One request; 49 answers from memory, each using a sub-call; the rest refused without a node or an event.
        Assert.Single(worker.Requests);
        Assert.Equal(1, result.Statistics.SubCalls);
        Assert.Equal(49, result.Statistics.MemoizedSubCalls);
        Assert.InRange(Flatten(result.Trajectory).Count(), 1, 80);
        Assert.InRange(events, 1, 400);

        // The loop ends at the script's time limit with a clear error, within the limit and a generous margin.
        string output = TestChatClient.LastToolResults(root.Requests[1]).Single();
        Assert.Contains("time limit of 2 s exceeded", output, StringComparison.Ordinal);
        var execNode = Flatten(result.Trajectory).Single(n => n.Label.StartsWith("exec_js", StringComparison.Ordinal));
        Assert.InRange(execNode.Duration, timeout - TimeSpan.FromMilliseconds(100), timeout + TimeSpan.FromSeconds(1));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"the run took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task MillionMemoizedLlmQueries_EndWithinTheScriptTimeLimit_WithAClearError()
    {
        var timeout = TimeSpan.FromSeconds(2);
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "let last; for (let i = 0; i < 1e6; i++) { last = llm_query('same'); } last" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxSubCalls = 20, JavaScriptTimeout = timeout, StreamRootResponses = false }).QueryAsync("q", s_context);

        // Either the script time ran out first, or the loop finished and its last call says the budget is spent.
        string output = TestChatClient.LastToolResults(root.Requests[1]).Single();
        Assert.True(output.Contains("time limit of 2 s exceeded", StringComparison.Ordinal) || output.Contains("Error: the sub-call budget of 20 is spent", StringComparison.Ordinal), output);
        var execNode = Flatten(result.Trajectory).Single(n => n.Label.StartsWith("exec_js", StringComparison.Ordinal));
        Assert.True(execNode.Duration <= timeout + TimeSpan.FromSeconds(1), $"exec_js took {execNode.Duration}");
        Assert.Equal(19, result.Statistics.MemoizedSubCalls);
        Assert.InRange(Flatten(result.Trajectory).Count(), 1, 40);
    }

    [Fact]
    public async Task MemoizedLlmQuery_UsesTheSubCallBudget_AndSaysSoWhenItIsSpent()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "[1,2,3,4].map(() => llm_query('same')).join('|')" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var result = await new RecursiveLanguageModel(root, worker, new RlmOptions { MaxSubCalls = 3, StreamRootResponses = false }).QueryAsync("q", s_context);

        string output = TestChatClient.LastToolResults(root.Requests[1]).Single();
        Assert.Contains("w|w|w|Error: the sub-call budget of 3 is spent (identical, memoized calls count too)", output, StringComparison.Ordinal);
        Assert.Equal(2, result.Statistics.MemoizedSubCalls);
    }

    [Fact]
    public async Task TraceNodesPastTheBound_AreCountedNotStored_AndTheTrajectorySaysSo()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(Peeks(150)),
            _ => TestChatClient.Calls(Peeks(150)),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions { MaxTraceNodes = 100, MaxFunctionCallsPerReply = 200, StreamRootResponses = false };
        var result = await new RecursiveLanguageModel(root, null, options).QueryAsync("q", s_context);

        Assert.Equal("done", result.Answer);
        Assert.Equal(300, result.Statistics.ToolCalls["peek_lines"]); // every call ran
        int stored = Flatten(result.Trajectory).Count();
        Assert.Equal(100, stored);

        // 1 root + 3 model calls + 301 tool calls (150, 150, final) were opened.
        Assert.Equal(1 + 3 + 301 - 100, result.Statistics.DroppedTraceNodes);

        using var writer = new StringWriter();
        RlmTrajectoryWriter.WriteJsonLines(result, writer);
        Assert.Contains(FormattableString.Invariant($"\"dropped_trace_nodes\":{result.Statistics.DroppedTraceNodes}"), writer.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Options_NewBounds_HaveDefaultsAndValidate()
    {
        var options = new RlmOptions();
        Assert.Equal(32, options.MaxFunctionCallsPerReply);
        Assert.Equal(10_000, options.MaxTraceNodes);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxFunctionCallsPerReply = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxFunctionCallsPerReply = 10_001);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxTraceNodes = 99);
    }

    private static IEnumerable<RlmTraceNode> Flatten(RlmTraceNode node) => new[] { node }.Concat(node.Children.SelectMany(Flatten));

    private sealed class CountingProgress(Action onReport) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => onReport();
    }
}
