using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>Every IChatClient is unreliable: retries with back-off, timeouts, typed failures, one host-wide concurrency budget.</summary>
public sealed class ModelResilienceTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3} of the context\n"));

    private static RlmOptions Fast(int retries = 3) => new()
    {
        MaxModelRetries = retries,
        ModelRetryBaseDelay = TimeSpan.FromMilliseconds(2),
        ModelRetryMaxDelay = TimeSpan.FromMilliseconds(50),
    };

    private static ChatResponse SubCalls(int count) =>
        TestChatClient.Calls([.. Enumerable.Range(0, count).Select(i => ("sub_llm", (object)new { query = $"part {i}", start = i * 10, end = i * 10 + 10 }))]);

    [Fact]
    public async Task TransientWorkerFailures_AreRetried_AndTheSubResultArrivesOnce()
    {
        var failures = new ConcurrentDictionary<string, int>();
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, _, _) =>
            {
                string question = messages[^1].Text;
                int seen = failures.AddOrUpdate(question, 1, (_, n) => n + 1);
                return seen switch
                {
                    1 => throw new HttpRequestException("service unavailable", null, HttpStatusCode.ServiceUnavailable),
                    2 => Task.FromResult(TestChatClient.Text("")), // an empty 200: unusable, retried
                    _ => Task.FromResult(TestChatClient.Text("answer to " + question[(question.IndexOf("part", StringComparison.Ordinal))..question.IndexOf('\n', question.IndexOf("part", StringComparison.Ordinal))])),
                };
            },
        };
        var root = new ScriptedChatClient(_ => SubCalls(4), _ => TestChatClient.Calls(("final", new { answer = "ok" })));

        var result = await new RecursiveLanguageModel(root, worker, Fast()).QueryAsync("q?", s_context);

        var delivered = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.Equal(["answer to part 0", "answer to part 1", "answer to part 2", "answer to part 3"], delivered);
        Assert.Equal(0, result.Statistics.FailedSubCalls);
        Assert.Equal(8, result.Statistics.ModelRetries);
        Assert.Equal(2 + 12, result.Statistics.ModelCalls); // every attempt counted
        Assert.Equal(12, worker.Requests.Count);
    }

    [Fact]
    public async Task ClientErrors_AreNotRetried_AndAllFailedSubCallsAreReported()
    {
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => throw new HttpRequestException("401 invalid api key", null, HttpStatusCode.Unauthorized),
        };
        var root = new ScriptedChatClient(_ => SubCalls(3), _ => TestChatClient.Calls(("final", new { answer = "guess" })));

        var result = await new RecursiveLanguageModel(root, worker, Fast()).QueryAsync("q?", s_context);

        Assert.Equal(3, worker.Requests.Count); // one attempt each
        Assert.Equal(3, result.Statistics.FailedSubCalls);
        Assert.True(result.AllSubCallsFailed);
        Assert.All(TestChatClient.LastToolResults(root.Requests[1]), r => Assert.Contains("refused (not retried) (HTTP 401)", r));
        Assert.Equal(RlmStopReason.Final, result.StopReason);
    }

    [Fact]
    public async Task RootFailure_IsATypedException_WithThePartialResult()
    {
        int calls = 0;
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Interlocked.Increment(ref calls) == 1
                ? Task.FromResult(TestChatClient.Calls(("grep", new { pattern = "line 00" })))
                : throw new JsonException("'<' is an invalid start of a value. LineNumber: 0"),
        };

        var e = await Assert.ThrowsAsync<RlmModelException>(() => new RecursiveLanguageModel(root, options: Fast(retries: 2)).QueryAsync("q?", s_context));

        Assert.Equal(RlmModelFailureKind.InvalidResponse, e.Kind);
        Assert.Equal(3, e.Attempts);
        Assert.Null(e.StatusCode);
        Assert.StartsWith("the root model request failed after 3 attempts: unreadable response:", e.Message);
        Assert.IsType<JsonException>(e.InnerException);
        Assert.NotNull(e.PartialResult);
        Assert.Equal(RlmStopReason.ModelFailure, e.PartialResult!.StopReason);
        Assert.Equal(2, e.PartialResult.Statistics.RootIterations);
        Assert.Equal(4, e.PartialResult.Statistics.ModelCalls);
        Assert.Equal(1, e.PartialResult.Statistics.FailedModelCalls);
        Assert.Equal(1, e.PartialResult.Statistics.ToolCalls["grep"]);
    }

    [Fact]
    public async Task HungClient_ThatIgnoresCancellation_IsAbandonedAtTheTimeout()
    {
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => new TaskCompletionSource<ChatResponse>().Task, // never completes, ignores its token
        };
        var options = Fast(retries: 1);
        options.ModelRequestTimeout = TimeSpan.FromMilliseconds(200);

        var e = await Assert.ThrowsAsync<RlmModelException>(() => new RecursiveLanguageModel(root, options: options).QueryAsync("q?", s_context).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(RlmModelFailureKind.Timeout, e.Kind);
        Assert.Equal(2, e.Attempts);
        Assert.Equal(2, root.Requests.Count);
    }

    [Fact]
    public async Task CallerCancellation_DuringBackOff_StaysOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) =>
            {
                cts.CancelAfter(50);
                throw new HttpRequestException("bad gateway", null, HttpStatusCode.BadGateway);
            },
        };
        var options = new RlmOptions { MaxModelRetries = 5, ModelRetryBaseDelay = TimeSpan.FromSeconds(20) };

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new RecursiveLanguageModel(root, options: options).QueryAsync("q?", s_context, cts.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"cancellation took {watch.Elapsed}");
        Assert.Single(root.Requests);
    }

    [Fact]
    public async Task SharedConcurrencyLimiter_BoundsThousandConcurrentQueries()
    {
        const int Permits = 16;
        using var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = Permits, QueueLimit = int.MaxValue });
        int inFlight = 0;
        int peak = 0;
        int requests = 0;

        async Task<ChatResponse> Track(Func<ChatResponse> reply)
        {
            int now = Interlocked.Increment(ref inFlight);
            Interlocked.Increment(ref requests);
            int seen;
            while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen)
            {
            }

            await Task.Delay(1);
            Interlocked.Decrement(ref inFlight);
            return reply();
        }

        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Track(() => TestChatClient.Text("w")) };
        var options = new RlmOptions { ConcurrencyLimiter = limiter, MaxConcurrency = 8 };
        var queries = Enumerable.Range(0, 1000).Select(async _ =>
        {
            int step = 0;
            var root = new TestChatClient
            {
                GetResponseAsyncCallback = (_, _, _) => Track(() => Interlocked.Increment(ref step) == 1 ? SubCalls(4) : TestChatClient.Calls(("final", new { answer = "x" }))),
            };
            return await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);
        }).ToList();
        var results = await Task.WhenAll(queries);

        Assert.All(results, r => Assert.Equal(4, r.Statistics.SubCalls));
        Assert.Equal(6000, Volatile.Read(ref requests));
        Assert.InRange(peak, 2, Permits);
    }
}
