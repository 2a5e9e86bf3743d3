using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// RlmOptions.StreamRootResponses: each function call of a root reply starts as soon as it is complete in the stream.
/// Ordering is proven with signals (a stream that waits until its first call has started), never with wall-clock times.
/// </summary>
public sealed class PipelinedToolCallTests
{
    // A guard against hangs only: a broken engine fails the test instead of blocking the run.
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(60);

    private static RlmOptions Options(params AIFunction[] tools) => new()
    {
        Tools = tools,
        MaxModelRetries = 2,
        ModelRetryBaseDelay = TimeSpan.FromMilliseconds(1),
        ModelRetryMaxDelay = TimeSpan.FromMilliseconds(5),
    };

    /// <summary>A custom tool <c>probe(id)</c> that records its start and returns <c>"probe {id}"</c>.</summary>
    private static AIFunction Probe(ConcurrentDictionary<string, TaskCompletionSource> started, ConcurrentQueue<string>? log = null) =>
        AIFunctionFactory.Create(
            (string id) =>
            {
                log?.Enqueue(id);
                started.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                return $"probe {id}";
            },
            "probe");

    private static Task Started(ConcurrentDictionary<string, TaskCompletionSource> started, string id) =>
        started.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(s_guard);

    [Fact]
    public async Task A_call_starts_while_the_rest_of_the_reply_is_still_streaming_and_results_keep_call_order()
    {
        var started = new ConcurrentDictionary<string, TaskCompletionSource>();
        var root = new StreamingScriptClient(
            (_, ct) => StreamingScriptClient.Steps(
            [
                StreamingScriptClient.Text("Looking up both. "),
                StreamingScriptClient.Call("probe", new { id = "a" }, "call_a"),
                Started(started, "a"), // the stream goes on only once probe(a) runs: without pipelining this never happens
                StreamingScriptClient.Call("probe", new { id = "b" }, "call_b"),
                StreamingScriptClient.Usage(100, 20),
            ], ct),
            (_, ct) => StreamingScriptClient.Updates(StreamingScriptClient.Call("final", new { answer = "ok" }), StreamingScriptClient.Usage(200, 5)));

        var result = await new RecursiveLanguageModel(root, options: Options(Probe(started))).QueryAsync("q?", "ctx");

        Assert.Equal("ok", result.Answer);
        var second = root.Requests[1];
        Assert.Equal(["probe a", "probe b"], TestChatClient.LastToolResults(second));
        var assistant = Assert.Single(second, m => m.Role == ChatRole.Assistant);
        Assert.Equal("Looking up both. ", assistant.Text);
        Assert.Equal(["call_a", "call_b"], assistant.Contents.OfType<FunctionCallContent>().Select(c => c.CallId));
        Assert.Equal(["call_a", "call_b"], second.Single(m => m.Role == ChatRole.Tool).Contents.OfType<FunctionResultContent>().Select(r => r.CallId));
        Assert.Equal(300, result.Usage.InputTokenCount); // usage of the assembled replies
        Assert.Equal(25, result.Usage.OutputTokenCount);
        Assert.Equal(0, root.PlainCalls);
        Assert.Equal(2, result.Statistics.ToolCalls["probe"]);
    }

    [Fact]
    public async Task Without_streaming_the_reply_is_asked_for_whole_and_gives_the_same_conversation()
    {
        var started = new ConcurrentDictionary<string, TaskCompletionSource>();
        var root = new StreamingScriptClient(
            (_, _) => StreamingScriptClient.Updates(
                StreamingScriptClient.Call("probe", new { id = "a" }, "call_a"),
                StreamingScriptClient.Call("probe", new { id = "b" }, "call_b"),
                StreamingScriptClient.Usage(100, 20)));
        var options = Options(Probe(started));
        options.StreamRootResponses = false;

        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("q?", "ctx");

        Assert.Equal("done", result.Answer);
        Assert.Equal(2, root.PlainCalls); // every root request went through GetResponseAsync
        Assert.Equal(["probe a", "probe b"], TestChatClient.LastToolResults(root.Requests[1]));
        Assert.Equal(100, result.Usage.InputTokenCount);
    }

    [Fact]
    public async Task A_client_that_sends_its_calls_only_at_the_end_works_as_before()
    {
        var log = new ConcurrentQueue<string>();
        var started = new ConcurrentDictionary<string, TaskCompletionSource>();
        // TestChatClient streams a whole ChatResponse turned into updates (M.E.AI's ToChatResponseUpdates): calls at the end.
        var root = new TestChatClient();
        int request = 0;
        root.GetResponseAsyncCallback = (_, _, _) => Task.FromResult(Interlocked.Increment(ref request) == 1
            ? TestChatClient.Calls(new UsageDetails { InputTokenCount = 7, OutputTokenCount = 3 }, ("probe", new { id = "x" }), ("probe", new { id = "y" }), ("probe", new { id = "z" }))
            : TestChatClient.Calls(("final", new { answer = "fine" })));

        var result = await new RecursiveLanguageModel(root, options: Options(Probe(started, log))).QueryAsync("q?", "ctx");

        Assert.Equal("fine", result.Answer);
        Assert.Equal(["probe x", "probe y", "probe z"], TestChatClient.LastToolResults(root.Requests[1].Messages));
        Assert.Equal(3, log.Count);
        Assert.Equal(7, result.Usage.InputTokenCount);
    }

    [Fact]
    public async Task A_client_that_refuses_to_stream_is_asked_the_plain_way_for_the_rest_of_the_run()
    {
        var root = new ScriptedChatClient( // its GetStreamingResponseAsync throws NotSupportedException
            _ => TestChatClient.Calls(("grep", new { pattern = "needle" })),
            _ => TestChatClient.Calls(("final", new { answer = "found" })));

        var result = await new RecursiveLanguageModel(root).QueryAsync("q?", "a needle here");

        Assert.Equal("found", result.Answer);
        Assert.Equal(2, root.Requests.Count);
        Assert.Equal(0, result.Statistics.ModelRetries);
    }

    [Fact]
    public async Task A_client_whose_stream_is_empty_is_asked_the_plain_way_for_the_rest_of_the_run()
    {
        // As the OpenAI SDK reads a server that answers "stream": true with a plain JSON body: no updates at all.
        var root = new EmptyStreamClient(
            TestChatClient.Calls(("grep", new { pattern = "needle" })),
            TestChatClient.Calls(("final", new { answer = "found" })));

        var result = await new RecursiveLanguageModel(root).QueryAsync("q?", "a needle here");

        Assert.Equal("found", result.Answer);
        Assert.Equal(1, root.StreamingCalls); // once: the run remembers
        Assert.Equal(2, root.PlainCalls);
        Assert.Equal(0, result.Statistics.ModelRetries);
    }

    [Fact]
    public async Task A_stream_that_breaks_before_any_call_is_retried_and_each_call_runs_once()
    {
        var log = new ConcurrentQueue<string>();
        var started = new ConcurrentDictionary<string, TaskCompletionSource>();
        var root = new StreamingScriptClient(
            (_, ct) => StreamingScriptClient.Steps(
            [
                StreamingScriptClient.Text("Let me"),
                new HttpRequestException("connection reset", new IOException("reset")),
            ], ct),
            (_, _) => StreamingScriptClient.Updates(StreamingScriptClient.Call("probe", new { id = "a" }), StreamingScriptClient.Call("probe", new { id = "b" })));

        var result = await new RecursiveLanguageModel(root, options: Options(Probe(started, log))).QueryAsync("q?", "ctx");

        Assert.Equal("done", result.Answer);
        Assert.Equal(1, result.Statistics.ModelRetries);
        Assert.Equal(["a", "b"], log.Order());
        Assert.Equal(3, root.Requests.Count); // broken, retried, final
        Assert.Equal(["probe a", "probe b"], TestChatClient.LastToolResults(root.Requests[2]));
    }

    [Fact]
    public async Task A_stream_that_breaks_after_a_call_started_is_cut_there_not_retried_and_the_model_is_told()
    {
        var log = new ConcurrentQueue<string>();
        var started = new ConcurrentDictionary<string, TaskCompletionSource>();
        var progress = new ConcurrentQueue<RlmEvent>();
        var root = new StreamingScriptClient(
            (_, ct) => StreamingScriptClient.Steps(
            [
                StreamingScriptClient.Call("probe", new { id = "a" }, "call_a"),
                Started(started, "a"),
                new HttpRequestException("upstream gone", null, HttpStatusCode.BadGateway),
            ], ct));
        var options = Options(Probe(started, log));
        options.Progress = new SyncProgress<RlmEvent>(progress.Enqueue);

        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("q?", "ctx");

        Assert.Equal("done", result.Answer);
        Assert.Equal(["a"], log); // ran once: the reply was not asked for again
        Assert.Equal(0, result.Statistics.ModelRetries);
        Assert.Equal(2, root.Requests.Count);
        var second = root.Requests[1];
        Assert.Equal(["call_a"], second.Single(m => m.Role == ChatRole.Assistant).Contents.OfType<FunctionCallContent>().Select(c => c.CallId));
        Assert.Equal(["probe a"], TestChatClient.LastToolResults(second));
        Assert.Contains("Your last reply was cut off", second[^1].Text, StringComparison.Ordinal);
        Assert.Contains("upstream gone", second[^1].Text, StringComparison.Ordinal);
        var cut = Assert.Single(progress.OfType<RlmReplyCut>());
        Assert.Equal(1, cut.StartedCalls);
        Assert.Contains("upstream gone", cut.Cause, StringComparison.Ordinal);
        Assert.Contains("broke off after 1 started call", cut.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Canceling_while_the_reply_streams_cancels_the_started_calls_and_throws()
    {
        var toolSawCancel = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var toolStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = AIFunctionFactory.Create(
            async (CancellationToken ct) =>
            {
                toolStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    toolSawCancel.TrySetResult();
                    throw;
                }

                return "never";
            },
            "slow");
        using var cts = new CancellationTokenSource();
        var root = new StreamingScriptClient(
            (_, ct) => StreamingScriptClient.Steps(
            [
                StreamingScriptClient.Call("slow", new { }),
                toolStarted.Task.WaitAsync(s_guard),
                new Func<Task>(() => { cts.Cancel(); return Task.CompletedTask; }),
                Task.Delay(Timeout.Infinite, ct), // the rest of the reply never comes
            ], ct));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new RecursiveLanguageModel(root, options: Options(slow)).QueryAsync("q?", "ctx", cts.Token));
        Assert.True(toolSawCancel.Task.IsCompleted);
    }

    [Fact]
    public async Task Final_in_the_stream_follows_the_reply_semantics_every_call_runs_and_final_answers()
    {
        var log = new ConcurrentQueue<string>();
        var started = new ConcurrentDictionary<string, TaskCompletionSource>();
        var root = new StreamingScriptClient(
            (_, _) => StreamingScriptClient.Updates(
                StreamingScriptClient.Call("probe", new { id = "before" }),
                StreamingScriptClient.Call("final", new { answer = "the answer" }),
                StreamingScriptClient.Call("probe", new { id = "after" })));

        var result = await new RecursiveLanguageModel(root, options: Options(Probe(started, log))).QueryAsync("q?", "ctx");

        Assert.Equal("the answer", result.Answer);
        Assert.Equal(RlmStopReason.Final, result.StopReason);
        Assert.Equal(["after", "before"], log.Order());
        Assert.Single(root.Requests);
    }

    private sealed class EmptyStreamClient(params ChatResponse[] replies) : IChatClient
    {
        private int _plain;
        private int _streaming;

        public int PlainCalls => Volatile.Read(ref _plain);

        public int StreamingCalls => Volatile.Read(ref _streaming);

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(replies[Math.Min(Interlocked.Increment(ref _plain) - 1, replies.Length - 1)]);

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _streaming);
            return StreamingScriptClient.Updates();
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
