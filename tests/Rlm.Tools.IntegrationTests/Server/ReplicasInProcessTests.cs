using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rlm.Tools.OpenAI;
using Rlm.Tools.Server.State;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// Replicas as rlm serve builds them (one container of state each, over one real redis-server), each running the engine
/// against one loopback OpenAI-compatible provider through the real OpenAI adapter: what must hold across replicas holds
/// at the level of the state, independent of HTTP.
/// </summary>
public sealed class ReplicasInProcessTests : IAsyncLifetime
{
    private RedisServerProcess _redis = null!;
    private ClusterProvider _provider = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        _provider = await ClusterProvider.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task ConversationTurnOneOnA_TurnTwoOnB_ReadsTurnOnesVariable()
    {
        await using var a = Replica();
        await using var b = Replica();
        var corpus = RlmCorpus.FromDocuments([new RlmDocument("corpus.txt", ClusterProvider.Corpus())]);
        string id = a.GetRequiredService<IConversationStore>().NewId();

        using (var onA = new RlmConversation(Model(a), corpus))
        {
            Assert.Equal("stored", (await onA.AskAsync("Keep this: REMEMBER:heron")).Answer);
            await a.GetRequiredService<IConversationStore>().SaveAsync(id, new StoredConversation("default", await onA.ToSnapshotAsync()), CancellationToken.None);
        }

        var stored = await b.GetRequiredService<IConversationStore>().GetAsync(id, CancellationToken.None);
        using var onB = new RlmConversation(Model(b), corpus, stored!.Snapshot);
        var turn2 = await onB.AskAsync("What did I ask you to keep? RECALL");

        Assert.Equal("heron", turn2.Answer);
        Assert.Equal(2, onB.Turns.Count);
    }

    [Fact]
    public async Task ThreeHundredQueries_OverThreeReplicas_TheProviderNeverSeesMoreThanTheLimit_AndNoneIsLost()
    {
        const int limit = 6;
        var replicas = Enumerable.Range(0, 3).Select(_ => Replica(limit)).ToList();
        try
        {
            var models = replicas.Select(r => Model(r)).ToList();
            string context = ClusterProvider.Corpus();
            var answers = await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
                models[i % 3].QueryAsync($"Q: what is on line 1? (query {i})", context)));

            Assert.All(answers.Select((r, i) => (r, i)), x => Assert.Contains($"worker saw: Q: what is on line 1? (query {x.i})", x.r.Answer, StringComparison.Ordinal));
            Assert.Equal(300, _provider.WorkerRequests);
            Assert.InRange(_provider.PeakInFlight, 2, limit);
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
    public async Task SubCallAnsweredOnA_IsAMemoHitOnB_TheProviderSeesOneWorkerRequest()
    {
        await using var a = Replica();
        await using var b = Replica();
        string context = ClusterProvider.Corpus();

        var onA = await Model(a).QueryAsync("Q: which replica answers this?", context);
        var onB = await Model(b).QueryAsync("Q: which replica answers this?", context);

        Assert.Equal(1, _provider.WorkerQueries["Q: which replica answers this?"]);
        Assert.Equal(1, onB.Statistics.MemoizedSubCalls);
        Assert.Equal(0, onB.Statistics.SubCalls);
        Assert.Equal(onA.Answer, onB.Answer);
    }

    [Fact]
    public async Task RedisStoppedMidRun_QueriesComplete_AndTheReplicaSaysUnavailable()
    {
        await using var a = Replica(providerConcurrency: 4);
        await using var b = Replica(providerConcurrency: 4);
        var state = a.GetRequiredService<ServerSharedState>();
        var (modelA, modelB) = (Model(a), Model(b));
        string context = ClusterProvider.Corpus();
        _provider.WorkerLatency = TimeSpan.FromMilliseconds(100);

        var queries = Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? modelA : modelB).QueryAsync($"Q: line {i}?", context)).ToList();
        await Task.Delay(300);
        await _redis.StopAsync();
        var results = await Task.WhenAll(queries).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results.Select((r, i) => (r, i)), x => Assert.Contains($"worker saw: Q: line {x.i}?", x.r.Answer, StringComparison.Ordinal));
        Assert.Equal("unavailable", state.RedisStatus);
        Assert.True(state.IsDegraded);

        // Still serving, alone: a new query on A completes while Redis is down.
        Assert.Contains("worker saw: Q: after the outage?", (await modelA.QueryAsync("Q: after the outage?", context)).Answer, StringComparison.Ordinal);
    }

    private ServiceProvider Replica(int? providerConcurrency = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRlmServerState(new ServerStateOptions { RedisConfiguration = _redis.Endpoint, ProviderConcurrency = providerConcurrency });
        return services.BuildServiceProvider();
    }

    /// <summary>The engine of one replica: the real OpenAI adapter to the loopback provider, the replica's shared state applied.</summary>
    private RecursiveLanguageModel Model(ServiceProvider replica)
    {
        IChatClient client = OpenAIChatClientFactory.Create("cluster-model", endpoint: _provider.Endpoint);
        var options = replica.GetRequiredService<ServerSharedState>().ApplyTo(new RlmOptions { MaxConcurrency = 8, ModelRetryBaseDelay = TimeSpan.FromMilliseconds(50) });
        return new RecursiveLanguageModel(client, client, options);
    }
}
