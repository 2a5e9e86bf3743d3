using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rlm.Tools.Server.State;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// The state of rlm serve with a real redis-server: replicas (one container each, as one process each would have) share
/// conversations, corpora, sub-call answers and the provider limit; when Redis goes away they go on alone and say so.
/// </summary>
public sealed class SharedStateRedisTests : IAsyncLifetime
{
    private RedisServerProcess _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerProcess.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task ConversationAndCorpus_WrittenOnOneReplica_AreReadOnAnother()
    {
        await using var a = Replica(_redis.Endpoint);
        await using var b = Replica(_redis.Endpoint);

        var corpus = await a.GetRequiredService<ICorpusStore>().AddAsync([new RlmDocument("notes.txt", "the code word is heron")], CancellationToken.None);
        var snapshot = new RlmConversationSnapshot { Variables = new Dictionary<string, string> { ["word"] = "heron" }, Usage = new UsageDetails { InputTokenCount = 12 } };
        string id = a.GetRequiredService<IConversationStore>().NewId();
        await a.GetRequiredService<IConversationStore>().SaveAsync(id, new StoredConversation(corpus.Id, snapshot), CancellationToken.None);

        var onB = await b.GetRequiredService<IConversationStore>().GetAsync(id, CancellationToken.None);
        Assert.NotNull(onB);
        Assert.Equal(corpus.Id, onB.CorpusId);
        Assert.Equal("heron", onB.Snapshot.Variables["word"]);
        Assert.Equal(12, onB.Snapshot.Usage.InputTokenCount);
        var corpusOnB = await b.GetRequiredService<ICorpusStore>().GetAsync(corpus.Id, CancellationToken.None);
        Assert.Equal("the code word is heron", Assert.Single(corpusOnB!.Documents).Text);
        Assert.Equal("connected", b.GetRequiredService<ServerSharedState>().RedisStatus);
    }

    [Fact]
    public async Task SubCallAnsweredOnOneReplica_IsAMemoHitOnAnother()
    {
        await using var a = Replica(_redis.Endpoint);
        await using var b = Replica(_redis.Endpoint);
        var (workerA, workerB) = (new CountingWorker("the answer from A"), new CountingWorker("the answer from B"));
        string context = string.Concat(Enumerable.Range(0, 50).Select(i => $"line {i} of a shared corpus\n"));

        var onA = await new RecursiveLanguageModel(new SubCallThenFinal(), workerA, a.GetRequiredService<ServerSharedState>().ApplyTo(new RlmOptions())).QueryAsync("q", context);
        var onB = await new RecursiveLanguageModel(new SubCallThenFinal(), workerB, b.GetRequiredService<ServerSharedState>().ApplyTo(new RlmOptions())).QueryAsync("q", context);

        Assert.Equal((1, 0), (workerA.Calls, workerB.Calls));
        Assert.Equal((1, 0), (onA.Statistics.SubCalls, onA.Statistics.MemoizedSubCalls));
        Assert.Equal((0, 1), (onB.Statistics.SubCalls, onB.Statistics.MemoizedSubCalls));
        Assert.Equal("sub-call said: the answer from A", onB.Answer);
    }

    [Fact]
    public async Task ProviderLimit_HoldsAcrossThreeReplicas_AndNoRequestIsLost()
    {
        const int limit = 3;
        var replicas = Enumerable.Range(0, 3).Select(_ => Replica(_redis.Endpoint, providerConcurrency: limit)).ToList();
        try
        {
            var limiters = replicas.Select(r => r.GetRequiredService<ServerSharedState>().ProviderLimiter!).ToList();
            int inFlight = 0, peak = 0, done = 0;
            await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
            {
                using var lease = await limiters[i % 3].AcquireAsync(1);
                Assert.True(lease.IsAcquired);
                int now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref peak, now);
                await Task.Delay(15);
                Interlocked.Decrement(ref inFlight);
                Interlocked.Increment(ref done);
            }));

            Assert.Equal(60, done);
            Assert.InRange(peak, 2, limit);
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RedisStopped_StateAndLimitGoOnLocally_LoggedOnceEachWay_AndConnectedAgainWhenBack()
    {
        var log = new LogList();
        await using var a = Replica(_redis.Endpoint, providerConcurrency: 1, log: log);
        var state = a.GetRequiredService<ServerSharedState>();
        var cache = a.GetRequiredService<IDistributedCache>();
        var conversations = a.GetRequiredService<IConversationStore>();
        await cache.SetStringAsync("rlm:test:before", "kept in redis");

        // One permit held from Redis, a second request waiting in Redis's queue: losing Redis must not leave it waiting.
        var held = await state.ProviderLimiter!.AcquireAsync(1);
        Assert.True(held.IsAcquired);
        var waiting = state.ProviderLimiter.AcquireAsync(1).AsTask();
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);

        await _redis.StopAsync();
        using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(second.IsAcquired);
        await WaitUntilAsync(() => state.RedisStatus == "unavailable");
        Assert.True(state.IsDegraded);

        // Without Redis: writes and reads stay on this replica, each in well under a second.
        var watch = Stopwatch.StartNew();
        string id = conversations.NewId();
        await conversations.SaveAsync(id, new StoredConversation("default", new RlmConversationSnapshot { Variables = new Dictionary<string, string> { ["x"] = "1" } }), CancellationToken.None);
        Assert.Equal("1", (await conversations.GetAsync(id, CancellationToken.None))!.Snapshot.Variables["x"]);
        Assert.Null(await cache.GetStringAsync("rlm:test:before"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"{watch.Elapsed} without Redis");
        second.Dispose();
        held.Dispose();

        await _redis.StartAgainAsync();
        await WaitUntilAsync(() => state.RedisStatus == "connected");
        Assert.False(state.IsDegraded);

        // The conversation written during the outage is still read here, then moves to Redis with its next write.
        Assert.Equal("1", (await conversations.GetAsync(id, CancellationToken.None))!.Snapshot.Variables["x"]);
        await conversations.SaveAsync(id, new StoredConversation("default", new RlmConversationSnapshot { Variables = new Dictionary<string, string> { ["x"] = "2" } }), CancellationToken.None);
        await using var b = Replica(_redis.Endpoint);
        Assert.Equal("2", (await b.GetRequiredService<IConversationStore>().GetAsync(id, CancellationToken.None))!.Snapshot.Variables["x"]);

        Assert.Single(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("is unavailable", StringComparison.Ordinal));
        Assert.Equal(2, log.Entries.Count(e => e.Level == LogLevel.Information && e.Message.Contains("is connected", StringComparison.Ordinal))); // at start and when back
    }

    [Fact]
    public async Task RedisDownAtStart_TheReplicaStartsDegraded_AndServesFromMemory()
    {
        var log = new LogList();
        var watch = Stopwatch.StartNew();
        await using var a = Replica($"127.0.0.1:{RedisServerProcess.FreePort()}", providerConcurrency: 2, log: log);
        var state = a.GetRequiredService<ServerSharedState>();
        var corpora = a.GetRequiredService<ICorpusStore>();
        var info = await corpora.AddAsync([new RlmDocument("a.txt", "alpha")], CancellationToken.None);
        Assert.Equal("alpha", Assert.Single((await corpora.GetAsync(info.Id, CancellationToken.None))!.Documents).Text);
        using var lease = await state.ProviderLimiter!.AcquireAsync(1);

        Assert.True(lease.IsAcquired);
        Assert.Equal("unavailable", state.RedisStatus);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.Elapsed} to start against a dead Redis");
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("no connection at start", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutRedis_TheStatusIsNotConfigured_AndTheLimitIsLocal()
    {
        await using var a = Replica(redis: null, providerConcurrency: 1);
        var state = a.GetRequiredService<ServerSharedState>();
        using var first = await state.ProviderLimiter!.AcquireAsync(1);
        var second = state.ProviderLimiter.AcquireAsync(1).AsTask();
        await Task.Delay(100);

        Assert.Equal("not_configured", state.RedisStatus);
        Assert.False(state.IsDegraded);
        Assert.False(second.IsCompleted);
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    private static ServiceProvider Replica(string? redis, int? providerConcurrency = null, LogList? log = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b =>
        {
            if (log is not null)
            {
                b.AddProvider(log);
            }
        });
        services.AddRlmServerState(new ServerStateOptions { RedisConfiguration = redis, ProviderConcurrency = providerConcurrency });
        return services.BuildServiceProvider();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 15 s");
            await Task.Delay(50);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>A root model that asks one sub_llm over the first 300 characters, then answers with what it got.</summary>
    private sealed class SubCallThenFinal : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
            var call = result is null
                ? new FunctionCallContent("c1", "sub_llm", new Dictionary<string, object?> { ["query"] = "What is here?", ["start"] = 0, ["end"] = 300 })
                : new FunctionCallContent("c2", "final", new Dictionary<string, object?> { ["answer"] = $"sub-call said: {result.Result}" });
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [call])));
        }

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
            {
                yield return update;
            }
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>A worker model that answers one fixed text and counts its requests.</summary>
    private sealed class CountingWorker(string answer) : IChatClient
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answer)));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            GetResponseAsync(messages, options, cancellationToken).Result.ToChatResponseUpdates().ToAsyncEnumerable();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>Log entries of every category, kept for assertions.</summary>
    private sealed class LogList : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));

        public void Dispose()
        {
        }
    }
}
