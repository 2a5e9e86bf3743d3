using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// RlmOptions.SubCallCache with real HybridCaches: each "replica" has its own container (so its own in-process level) over
/// one shared MemoryDistributedCache, the way replicas share Redis.
/// </summary>
public class SharedSubCallCacheTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3} of the context\n"));

    [Fact]
    public async Task SubCallAnsweredOnOneReplica_IsAMemoHitOnAnother_ItsWorkerIsNeverAsked()
    {
        var shared = new RecordingDistributedCache();
        var (rootA, workerA) = (OneSubCall(), Worker("the answer from A"));
        var (rootB, workerB) = (OneSubCall(), Worker("the answer from B"));

        var a = await new RecursiveLanguageModel(rootA, workerA, Options(Replica(shared))).QueryAsync("q", s_context);
        var b = await new RecursiveLanguageModel(rootB, workerB, Options(Replica(shared))).QueryAsync("q", s_context);

        Assert.Single(workerA.Requests);
        Assert.Empty(workerB.Requests);
        Assert.Equal("the answer from A", TestChatClient.LastToolResults(rootB.Requests[1]).Single());
        Assert.Equal((1, 0), (a.Statistics.SubCalls, a.Statistics.MemoizedSubCalls));
        Assert.Equal((0, 1), (b.Statistics.SubCalls, b.Statistics.MemoizedSubCalls));
        var node = Flatten(b.Trajectory).Single(n => n.Label.StartsWith("memoized sub-call", StringComparison.Ordinal));
        Assert.Contains("shared sub-call cache", node.Label, StringComparison.Ordinal);
        Assert.Equal("the answer from A", node.Summary);
    }

    [Fact]
    public async Task Keys_AreContentHashes_WithoutTheText_AndADifferentSliceTextMisses()
    {
        var shared = new RecordingDistributedCache();
        var workerA = Worker("answer A");
        await new RecursiveLanguageModel(OneSubCall(), workerA, Options(Replica(shared))).QueryAsync("q", s_context);

        // Same query and offsets over another text: another key, so B's worker is asked.
        var workerB = Worker("answer B");
        string other = s_context.Replace("line 001", "LINE 001", StringComparison.Ordinal);
        await new RecursiveLanguageModel(OneSubCall(), workerB, Options(Replica(shared))).QueryAsync("q", other);

        Assert.Single(workerA.Requests);
        Assert.Single(workerB.Requests);
        // HybridCache reads its own tag-invalidation key too ("__MSFT_HCT__*"): only ours are checked.
        var keys = shared.Keys.Where(k => !k.StartsWith("__MSFT_", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Equal(2, keys.Count);
        Assert.All(keys, key =>
        {
            Assert.Matches("^rlm:subcall:v1:[0-9a-f]{64}$", key);
            Assert.DoesNotContain("What is here", key, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task AnotherWorkerModel_IsAnotherKey_ItsWorkerIsAsked()
    {
        var shared = new RecordingDistributedCache();
        var (workerA, workerB) = (Worker("answer A"), Worker("answer B"));
        await new RecursiveLanguageModel(OneSubCall(), workerA, Options(Replica(shared))).QueryAsync("q", s_context);
        var b = await new RecursiveLanguageModel(OneSubCall(), workerB, Options(Replica(shared), o => o.WorkerModelId = "another-model")).QueryAsync("q", s_context);

        Assert.Single(workerA.Requests);
        Assert.Single(workerB.Requests);
        Assert.Equal(0, b.Statistics.MemoizedSubCalls);
    }

    [Fact]
    public async Task FailedSubCall_IsNotShared_TheNextReplicaAsksItsWorker()
    {
        var shared = new RecordingDistributedCache();
        var failing = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => throw new HttpRequestException("refused", null, HttpStatusCode.BadRequest) };
        var a = await new RecursiveLanguageModel(OneSubCall(), failing, Options(Replica(shared), o => o.MaxModelRetries = 0)).QueryAsync("q", s_context);
        var workerB = Worker("answer B");
        var b = await new RecursiveLanguageModel(OneSubCall(), workerB, Options(Replica(shared))).QueryAsync("q", s_context);

        Assert.Equal(1, a.Statistics.FailedSubCalls);
        Assert.Single(workerB.Requests);
        Assert.Equal(0, b.Statistics.MemoizedSubCalls);
    }

    [Fact]
    public async Task ACacheThatThrows_NeverFailsTheRun_ItIsLoggedAndTheSubCallRuns()
    {
        var log = new ConcurrentBag<(LogLevel Level, string Message)>();
        var worker = Worker("the answer");
        var root = OneSubCall();
        var result = await new RecursiveLanguageModel(root, worker, Options(new ThrowingHybridCache(), o => o.LoggerFactory = new ListLoggerFactory(log))).QueryAsync("q", s_context);

        Assert.Equal("done", result.Answer);
        Assert.Single(worker.Requests);
        Assert.Equal("the answer", TestChatClient.LastToolResults(root.Requests[1]).Single());
        Assert.Contains(log, e => e.Level == LogLevel.Warning && e.Message.Contains("failed to read", StringComparison.Ordinal) && e.Message.Contains("redis is down", StringComparison.Ordinal));
        Assert.Contains(log, e => e.Level == LogLevel.Warning && e.Message.Contains("failed to write", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MemoizeSubCallsOff_TheSharedCacheIsNotUsed()
    {
        var shared = new RecordingDistributedCache();
        var worker = Worker("answer");
        await new RecursiveLanguageModel(OneSubCall(), worker, Options(Replica(shared), o => o.MemoizeSubCalls = false)).QueryAsync("q", s_context);

        Assert.Single(worker.Requests);
        Assert.DoesNotContain(shared.Keys, k => k.StartsWith("rlm:", StringComparison.Ordinal));
    }

    private static RlmOptions Options(HybridCache cache, Action<RlmOptions>? configure = null)
    {
        var options = new RlmOptions { WorkerModelId = "w", SubCallCache = cache };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>One replica's HybridCache: its own container and in-process level over the shared distributed cache.</summary>
    private static HybridCache Replica(IDistributedCache shared)
    {
        var services = new ServiceCollection();
        services.AddSingleton(shared);
        services.AddHybridCache();
        return services.BuildServiceProvider().GetRequiredService<HybridCache>();
    }

    private static ScriptedChatClient OneSubCall() => new(
        _ => TestChatClient.Calls(("sub_llm", new { query = "What is here?", start = 0, end = 500 })),
        _ => TestChatClient.Calls(("final", new { answer = "done" })));

    private static TestChatClient Worker(string answer) => new() { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text(answer)) };

    private static IEnumerable<RlmTraceNode> Flatten(RlmTraceNode node) => new[] { node }.Concat(node.Children.SelectMany(Flatten));

    /// <summary>A MemoryDistributedCache that records the keys it is asked for.</summary>
    private sealed class RecordingDistributedCache : IDistributedCache
    {
        private readonly MemoryDistributedCache _inner = new(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions()));

        public ConcurrentQueue<string> Keys { get; } = new();

        public byte[]? Get(string key) => Record(key, _inner.Get(key));

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

        public void Refresh(string key) => _inner.Refresh(Record(key, key));

        public Task RefreshAsync(string key, CancellationToken token = default) => _inner.RefreshAsync(Record(key, key), token);

        public void Remove(string key) => _inner.Remove(Record(key, key));

        public Task RemoveAsync(string key, CancellationToken token = default) => _inner.RemoveAsync(Record(key, key), token);

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _inner.Set(Record(key, key), value, options);

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => _inner.SetAsync(Record(key, key), value, options, token);

        private T Record<T>(string key, T value)
        {
            Keys.Enqueue(key);
            return value;
        }
    }

    /// <summary>A cache whose every operation fails, as a cache over an unreachable server might.</summary>
    private sealed class ThrowingHybridCache : HybridCache
    {
        public override ValueTask<T> GetOrCreateAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("redis is down");

        public override ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new TimeoutException("redis is down"));

        public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }

    private sealed class ListLoggerFactory(ConcurrentBag<(LogLevel, string)> entries) : ILoggerFactory, ILogger
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Add((logLevel, formatter(state, exception)));

        public void Dispose()
        {
        }
    }
}
