using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// Real <c>rlm serve</c> processes on loopback sharing one real redis-server, against a loopback provider that counts the
/// requests in flight: what the issue asks of stateless replicas, end to end over HTTP.
/// </summary>
public sealed class ReplicasProcessTests : IAsyncLifetime
{
    private RedisServerProcess _redis = null!;
    private ClusterProvider _provider = null!;
    private string _corpusFile = null!;
    private readonly List<ServeProcess> _replicas = [];

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        _provider = await ClusterProvider.StartAsync();
        _corpusFile = Path.Combine(Path.GetTempPath(), $"rlm-replicas-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(_corpusFile, ClusterProvider.Corpus());
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        await _provider.DisposeAsync();
        await _redis.DisposeAsync();
        File.Delete(_corpusFile);
    }

    [Fact]
    public async Task ConversationTurnOneOnA_TurnTwoOnB_NeedsTurnOnesVariable()
    {
        var (a, b) = (await StartReplicaAsync(), await StartReplicaAsync());
        using var onA = ServeTestSupport.Client(a.BaseAddress);
        using var onB = ServeTestSupport.Client(b.BaseAddress);

        var created = await ReadJsonAsync(await onA.PostAsJsonAsync("v1/corpora", new { documents = new[] { new { name = "notes.txt", text = ClusterProvider.Corpus() } } }));
        string corpus = created.GetProperty("id").GetString()!;
        var turn1 = await ReadJsonAsync(await onA.PostAsJsonAsync($"v1/corpora/{corpus}/query", new { question = "Keep this: REMEMBER:heron" }));
        string conversation = turn1.GetProperty("conversation_id").GetString()!;
        var turn2 = await ReadJsonAsync(await onB.PostAsJsonAsync($"v1/corpora/{corpus}/query", new { question = "What did I ask you to keep? RECALL", conversation_id = conversation }));

        Assert.Equal("stored", turn1.GetProperty("answer").GetString());
        Assert.Equal("heron", turn2.GetProperty("answer").GetString());
        Assert.Equal(conversation, turn2.GetProperty("conversation_id").GetString());
    }

    [Fact]
    public async Task QueryOnAKilledReplica_RetriedByTheClientOnB_Completes()
    {
        var (a, b) = (await StartReplicaAsync(), await StartReplicaAsync());
        using var onA = ServeTestSupport.Client(a.BaseAddress);
        using var onB = ServeTestSupport.Client(b.BaseAddress);
        const string question = "Q: SLOW part, served while its replica dies";

        var first = onA.PostAsJsonAsync("v1/corpora/default/query", new { question });
        await WaitUntilAsync(() => _provider.WorkerQueries.ContainsKey(question), "the provider got A's sub-call");
        _replicas.Remove(a);
        await a.DisposeAsync(); // killed (SIGKILL) mid-query
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => first);

        _provider.SlowWorkerLatency = TimeSpan.FromMilliseconds(50);
        var retried = await ReadJsonAsync(await onB.PostAsJsonAsync("v1/corpora/default/query", new { question }));
        Assert.Contains($"worker saw: {question}", retried.GetProperty("answer").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThreeHundredConcurrentQueries_OverThreeReplicas_StayUnderTheClusterLimit_AndNoneIsLost()
    {
        const int limit = 6;
        var replicas = new[] { await StartReplicaAsync(limit), await StartReplicaAsync(limit), await StartReplicaAsync(limit) };
        var clients = replicas.Select(r => ServeTestSupport.Client(r.BaseAddress)).ToList();
        _provider.ResetPeak();

        var answers = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            var response = await clients[i % 3].PostAsJsonAsync("v1/corpora/default/query", new { question = $"Q: line one? (query {i})" });
            return (i, Answer: (await ReadJsonAsync(response)).GetProperty("answer").GetString()!);
        }));

        Assert.All(answers, x => Assert.Contains($"worker saw: Q: line one? (query {x.i})", x.Answer, StringComparison.Ordinal));
        Assert.Equal(300, answers.Length);
        Assert.True(_provider.PeakInFlight is >= 2 and <= limit, $"peak {_provider.PeakInFlight} in flight, limit {limit}; the replicas on Redis:\n"
            + string.Join("\n", replicas.SelectMany(r => r.StdErr.Split('\n')).Where(l => l.Contains("Redis", StringComparison.Ordinal))));
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task SubCallAnsweredOnA_IsAMemoHitOnB()
    {
        var (a, b) = (await StartReplicaAsync(), await StartReplicaAsync());
        using var onA = ServeTestSupport.Client(a.BaseAddress);
        using var onB = ServeTestSupport.Client(b.BaseAddress);
        const string question = "Q: answered once for the cluster";

        var first = await ReadJsonAsync(await onA.PostAsJsonAsync("v1/corpora/default/query", new { question }));
        var second = await ReadJsonAsync(await onB.PostAsJsonAsync("v1/corpora/default/query", new { question }));

        Assert.Equal(1, _provider.WorkerQueries[question]);
        Assert.Equal(first.GetProperty("answer").GetString(), second.GetProperty("answer").GetString());
    }

    [Fact]
    public async Task RedisStoppedMidRun_QueriesComplete_AndReadyzSaysDegraded()
    {
        var (a, b) = (await StartReplicaAsync(4), await StartReplicaAsync(4));
        using var onA = ServeTestSupport.Client(a.BaseAddress);
        using var onB = ServeTestSupport.Client(b.BaseAddress);
        _provider.WorkerLatency = TimeSpan.FromMilliseconds(100);
        var ready = await ReadJsonAsync(await onA.GetAsync("readyz"));
        Assert.Equal(("ready", "connected"), (ready.GetProperty("status").GetString(), ready.GetProperty("redis").GetString()));

        var queries = Enumerable.Range(0, 40).Select(async i =>
            (i, Answer: (await ReadJsonAsync(await (i % 2 == 0 ? onA : onB).PostAsJsonAsync("v1/corpora/default/query", new { question = $"Q: during the outage {i}" }))).GetProperty("answer").GetString()!)).ToList();
        await Task.Delay(300);
        await _redis.StopAsync();
        var answers = await Task.WhenAll(queries);

        Assert.All(answers, x => Assert.Contains($"worker saw: Q: during the outage {x.i}", x.Answer, StringComparison.Ordinal));
        await WaitUntilAsync(() => a.StdErr.Contains("is unavailable", StringComparison.Ordinal), "A logged the loss of Redis");
        var response = await onA.GetAsync("readyz");
        var degraded = await ReadJsonAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("degraded", "unavailable"), (degraded.GetProperty("status").GetString(), degraded.GetProperty("redis").GetString()));
    }

    private async Task<ServeProcess> StartReplicaAsync(int providerConcurrency = 16)
    {
        var replica = await ServeProcess.StartAsync(
            ["--file", _corpusFile, "--base-url", _provider.Endpoint.ToString(), "--model", "cluster-model", "--redis", _redis.Endpoint,
             "--provider-concurrency", providerConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), "--max-concurrent-queries", "400"],
            ServeTestSupport.ProviderEnvironment);
        _replicas.Add(replica);
        return replica;
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 20 s: {what}");
            await Task.Delay(25);
        }
    }
}
