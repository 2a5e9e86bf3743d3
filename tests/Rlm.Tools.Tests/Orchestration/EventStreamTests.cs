using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public sealed class EventStreamTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3}\n"));

    [Fact]
    public async Task QueryStreamingAsync_YieldsTypedEventsInOrder_EndingWithTheResult()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("found it", new UsageDetails { InputTokenCount = 50, OutputTokenCount = 5 })) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(new UsageDetails { InputTokenCount = 20, OutputTokenCount = 2 }, ("sub_llm", new { query = "a", start = 0, end = 100 }), ("sub_llm", new { query = "b", start = 100, end = 200 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));

        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, worker).QueryStreamingAsync("q?", RlmCorpus.FromText(s_context)))
        {
            events.Add(e);
        }

        Assert.IsType<RlmIterationStarted>(events[0]);
        var completed = Assert.IsType<RlmRunCompleted>(events[^1]);
        Assert.Equal("done", completed.Answer);
        Assert.Equal(RlmStopReason.Final, completed.Result.StopReason);
        Assert.Equal(2, events.OfType<RlmSubCallStarted>().Count(e => e.Depth == 1 && e.IsLeaf));
        Assert.Equal(2, events.OfType<RlmSubCallEnded>().Count(e => !e.Failed && e.Excerpt == "found it"));
        Assert.Equal(2, events.OfType<RlmModelResponded>().Count(e => e.Role == "worker" && e.Usage!.InputTokenCount == 50));
        var rootResponse = events.OfType<RlmModelResponded>().First(e => e.Role == "root");
        Assert.Equal(2, rootResponse.FunctionCalls);
        Assert.Equal(3, events.OfType<RlmToolCallStarted>().Count()); // sub_llm x2, final
        Assert.Contains(events.OfType<RlmToolCallEnded>(), e => e.Name == "sub_llm" && e.ResultExcerpt == "found it");
        Assert.True(events.IndexOf(events.OfType<RlmSubCallStarted>().First()) < events.IndexOf(events.OfType<RlmSubCallEnded>().First()));
        // Parallel sub-calls interleave, so only the run's end bounds every event's time (no wall-clock slack).
        Assert.All(events, e => Assert.True(e.Elapsed <= completed.Elapsed));
    }

    [Fact]
    public async Task StoppingTheEnumerationEarly_CancelsTheRun()
    {
        var canceled = new TaskCompletionSource();
        var entered = new TaskCompletionSource();
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                entered.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    canceled.TrySetResult();
                    throw;
                }

                return TestChatClient.Text("never");
            },
        };

        await foreach (var e in new RecursiveLanguageModel(root).QueryStreamingAsync("q?", s_context))
        {
            Assert.IsType<RlmIterationStarted>(e);
            // The event comes just before the request: stop once the request is in flight, so it is what gets canceled.
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
            break;
        }

        await canceled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task BudgetWarnings_AreEvents()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 0 }, ("peek", new { start = 0, end = 5 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, options: new RlmOptions { MaxTotalTokens = 1_000 }).QueryStreamingAsync("q?", s_context))
        {
            events.Add(e);
        }

        Assert.Contains(events, e => e is RlmBudgetWarning);
        Assert.Equal(RlmStopReason.TokenBudget, Assert.IsType<RlmRunCompleted>(events[^1]).Result.StopReason);
    }

    [Fact]
    public async Task RecursiveSubCalls_CarryTheirDepth_AndTheRunsCompletionIsTheOnlyLastEvent()
    {
        // Depth 0 sends a recursive sub-call (MaxDepth 2: a session at depth 1), which sends a leaf at depth 2.
        var client = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, options, _) =>
            {
                if (TestChatClient.IsLeaf(options))
                {
                    return Task.FromResult(TestChatClient.Text("leaf says 42"));
                }

                bool worker = options?.ModelId == "w";
                int toolResults = messages.Count(m => m.Role == ChatRole.Tool);
                return Task.FromResult((worker, toolResults) switch
                {
                    (false, 0) => TestChatClient.Calls(("sub_llm", new { query = "dig", start = 0, end = 500 })),
                    (true, 0) => TestChatClient.Calls(("sub_llm", new { query = "leaf", start = 0, end = 50 })),
                    (true, _) => TestChatClient.Calls(("final", new { answer = "worker found 42" })),
                    _ => TestChatClient.Calls(("final", new { answer = "42" })),
                });
            },
        };
        var options = new RlmOptions { MaxDepth = 2, RootModelId = "r", WorkerModelId = "w" };

        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(client, options: options).QueryStreamingAsync("q?", s_context))
        {
            events.Add(e);
        }

        Assert.IsType<RlmRunCompleted>(events[^1]);
        Assert.Single(events.OfType<RlmRunCompleted>());
        Assert.Equal("42", ((RlmRunCompleted)events[^1]).Answer);
        var subStarts = events.OfType<RlmSubCallStarted>().ToList();
        Assert.Equal([(1, false), (2, true)], subStarts.Select(e => (e.Depth, e.IsLeaf)));
        Assert.All(subStarts, e => Assert.Equal("w", e.ModelId));
        Assert.Equal([2, 1], events.OfType<RlmSubCallEnded>().Select(e => e.Depth)); // the leaf ends first
        Assert.Contains(events, e => e is RlmIterationStarted { Depth: 1, Role: "worker", ModelId: "w" });
        Assert.Contains(events, e => e is RlmIterationStarted { Depth: 0, Role: "root", ModelId: "r" });
        Assert.Contains(events, e => e is RlmSessionCompleted { Depth: 1, StopReason: RlmStopReason.Final });
        Assert.Contains(events, e => e is RlmSessionCompleted { Depth: 0, StopReason: RlmStopReason.Final });
        Assert.Contains(events, e => e is RlmModelResponded { Depth: 2, Role: "worker" });
        var endOfDepth1 = events.OfType<RlmToolCallEnded>().Single(e => e.Depth == 1 && e.Name == "sub_llm");
        Assert.Equal("leaf says 42", endOfDepth1.ResultExcerpt);
        Assert.Equal("sub-call done (depth=1): worker found 42", events.OfType<RlmSubCallEnded>().Single(e => e.Depth == 1).Describe());
    }

    [Fact]
    public async Task ModelRetries_AreTypedEvents_WithTheirDelayAndReason()
    {
        int calls = 0;
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Interlocked.Increment(ref calls) switch
            {
                1 => throw new HttpRequestException("the upstream is busy", null, System.Net.HttpStatusCode.ServiceUnavailable),
                _ => Task.FromResult(TestChatClient.Calls(("final", new { answer = "ok" }))),
            },
        };
        var options = new RlmOptions { MaxModelRetries = 3, ModelRetryBaseDelay = TimeSpan.FromMilliseconds(2) };

        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, options: options).QueryStreamingAsync("q?", s_context))
        {
            events.Add(e);
        }

        var retry = Assert.Single(events.OfType<RlmModelRetry>());
        Assert.Equal((0, "root", 1, 3, RlmModelFailureKind.ServerError, (int?)503), (retry.Depth, retry.Role, retry.Retry, retry.MaxRetries, retry.Kind, retry.StatusCode));
        Assert.True(retry.Delay > TimeSpan.Zero);
        Assert.Contains("the upstream is busy", retry.Reason, StringComparison.Ordinal);
        Assert.StartsWith("root request server error (HTTP 503); retry 1 of 3 in ", retry.Describe(), StringComparison.Ordinal);
        Assert.True(events.IndexOf(retry) < events.FindIndex(e => e is RlmModelResponded));
        Assert.Equal(1, Assert.IsType<RlmRunCompleted>(events[^1]).Result.Statistics.ModelRetries);
    }

    [Fact]
    public async Task SecretsInArgumentsResultsAndRetryReasons_AreRedacted_InTheStreamAndTheProgress()
    {
        const string Secret = "hunter2-plain-secret-value";
        int rootCalls = 0;
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Interlocked.Increment(ref rootCalls) switch
            {
                1 => throw new HttpRequestException($"bad key {Secret}", null, System.Net.HttpStatusCode.TooManyRequests),
                2 => Task.FromResult(TestChatClient.Calls(("grep", new { pattern = Secret }), ("lookup", new { }))),
                _ => Task.FromResult(TestChatClient.Calls(("final", new { answer = "done" }))),
            },
        };
        var options = new RlmOptions { MaxModelRetries = 1, ModelRetryBaseDelay = TimeSpan.FromMilliseconds(2) };
        options.RedactedValues.Add(Secret);
        options.Tools.Add(AIFunctionFactory.Create(() => $"the key is {Secret}", "lookup"));
        var progress = new List<RlmEvent>();
        options.Progress = new SyncProgress(e => { lock (progress) { progress.Add(e); } });

        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, options: options).QueryStreamingAsync("q?", s_context))
        {
            events.Add(e);
        }

        Assert.Contains("[REDACTED]", events.OfType<RlmModelRetry>().Single().Reason, StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", events.OfType<RlmToolCallStarted>().Single(e => e.Name == "grep").Arguments, StringComparison.Ordinal);
        Assert.Equal("the key is [REDACTED]", events.OfType<RlmToolCallEnded>().Single(e => e.Name == "lookup").ResultExcerpt);
        Assert.All(events.Concat(progress), e => Assert.DoesNotContain(Secret, e.Describe() + e, StringComparison.Ordinal));
        Assert.Equal(events, progress); // the same (redacted) event objects, in the same order: one path
    }

    [Fact]
    public async Task QueryStreamingAsync_OverDocuments_MatchesQueryAsync()
    {
        RlmDocument[] documents = [new("a.md", "hay\nhay"), new("b/c.md", "hay\nthe needle\n")];
        ScriptedChatClient Root() => new(_ => TestChatClient.Calls(("grep", new { pattern = "needle" })), _ => TestChatClient.Calls(("final", new { answer = "b/c.md:2" })));

        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(Root()).QueryStreamingAsync("q?", documents))
        {
            events.Add(e);
        }

        Assert.Contains("[b/c.md:2]: the needle", events.OfType<RlmToolCallEnded>().Single(e => e.Name == "grep").ResultExcerpt, StringComparison.Ordinal);
        var completed = Assert.IsType<RlmRunCompleted>(events[^1]);
        Assert.Equal((await new RecursiveLanguageModel(Root()).QueryAsync("q?", documents)).Answer, completed.Answer);
        Assert.Throws<ArgumentException>(() => new RecursiveLanguageModel(Root()).QueryStreamingAsync("q?", Array.Empty<RlmDocument>()));
    }

    [Fact]
    public async Task IterationLimit_IsAnEvent_BeforeTheLastRequestForAnAnswer()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("peek", new { start = 0, end = 5 })),
            _ => TestChatClient.Text("best guess"));
        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, options: new RlmOptions { MaxIterations = 1 }).QueryStreamingAsync("q?", s_context))
        {
            events.Add(e);
        }

        var stopped = Assert.Single(events.OfType<RlmIterationsStopped>());
        Assert.Equal((RlmStopReason.IterationLimit, true), (stopped.Reason, stopped.AsksForAnswer));
        Assert.Equal("iteration limit: asking root (root) for its answer...", stopped.Describe());
        Assert.True(events.IndexOf(stopped) < events.FindLastIndex(e => e is RlmModelResponded));
        Assert.Equal("best guess", Assert.IsType<RlmRunCompleted>(events[^1]).Answer);
    }

    [Fact]
    public async Task ParallelSubCalls_ReportToProgressFromManyThreads_WithoutLosingEvents()
    {
        const int N = 16;
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                await Task.Yield();
                return TestChatClient.Text("w");
            },
        };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls([.. Enumerable.Range(0, N).Select(i => ("sub_llm", (object)new { query = "q" + i, start = i * 10, end = i * 10 + 10 }))]),
            _ => TestChatClient.Calls(("final", new { answer = "x" })));
        var progress = new List<RlmEvent>();
        var options = new RlmOptions { MaxConcurrency = 8, Progress = new SyncProgress(e => { lock (progress) { progress.Add(e); } }) };

        await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);

        Assert.Equal(N, progress.OfType<RlmSubCallStarted>().Count());
        Assert.Equal(N, progress.OfType<RlmSubCallEnded>().Count(e => !e.Failed));
        Assert.Equal(N, progress.OfType<RlmToolCallEnded>().Count(e => e.Name == "sub_llm" && e.ResultExcerpt == "w"));
        Assert.Equal(N, Assert.Single(progress.OfType<RlmParallelCalls>()).Names.Count);
        Assert.IsType<RlmRunCompleted>(progress[^1]);
    }

    private sealed class SyncProgress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }
}
