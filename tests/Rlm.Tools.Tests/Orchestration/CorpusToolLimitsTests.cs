using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>The corpus tool (<c>AsAIFunction</c>) against an untrusted caller: question length, a shared query limit, default budgets.</summary>
public sealed class CorpusToolLimitsTests
{
    private static readonly RlmCorpus s_corpus = RlmCorpus.FromText(string.Concat(Enumerable.Range(0, 50).Select(i => $"line {i}\n")));

    [Fact]
    public void Defaults_ArePinned_AndValidated()
    {
        var options = new RlmCorpusToolOptions();
        Assert.Equal("query_corpus", options.Name);
        Assert.Equal(100_000, options.MaxQuestionChars);
        Assert.Equal(TimeSpan.FromMinutes(10), options.DefaultMaxWallTime);
        Assert.Equal(1_000_000, options.DefaultMaxTotalTokens);
        Assert.Same(RlmQueryLimiter.Shared, options.QueryLimiter);
        Assert.Equal(4, RlmQueryLimiter.Shared.MaxConcurrentQueries);
        Assert.Equal(TimeSpan.FromMinutes(2), RlmQueryLimiter.Shared.QueueTimeout);

        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxQuestionChars = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.DefaultMaxWallTime = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.DefaultMaxTotalTokens = 0);
        Assert.Throws<ArgumentNullException>(() => options.QueryLimiter = null!);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RlmQueryLimiter(0, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RlmQueryLimiter(1, TimeSpan.Zero));
    }

    [Theory]
    [InlineData("query corpus")]
    [InlineData("query.corpus")]
    [InlineData("quéry")]
    [InlineData("a-name-of-sixty-five-characters-is-one-more-than-providers-take-x")]
    public void AToolNameProvidersRefuse_IsRefusedHere_NamingTheRule(string name)
    {
        var rlm = new RecursiveLanguageModel(new TestChatClient());

        var e = Assert.Throws<ArgumentException>(() => rlm.AsAIFunction(s_corpus, name));

        Assert.Equal("Name", e.ParamName);
        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("64 ASCII letters, digits, '_' and '-'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("query_corpus")]
    [InlineData("Search-Docs-2")]
    [InlineData("a-name-of-sixty-four-characters-is-the-most-providers-take-xxxxx")]
    public void AToolNameProvidersAccept_IsKept(string name) =>
        Assert.Equal(name, new RecursiveLanguageModel(new TestChatClient()).AsAIFunction(s_corpus, name).Name);

    [Fact]
    public async Task OverlongQuestion_IsAnArgumentException_AndNoModelRequestIsSent()
    {
        var root = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Calls(("final", new { answer = "x" }))) };
        var tool = new RecursiveLanguageModel(root).AsAIFunction(s_corpus, new RlmCorpusToolOptions { MaxQuestionChars = 10 });

        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "eleven char" }));

        Assert.Equal("question", e.ParamName);
        Assert.StartsWith("The question argument has 11 characters, more than the 10 this tool takes. Ask a shorter question; the corpus is already on the server.", e.Message);
        Assert.Empty(root.Requests);
        Assert.Contains("questions up to 10 characters", tool.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoToolsSharingALimiter_TheSecondQueryWaitsWithProgress_ThenIsBusy_AndRunsOnceTheFirstEnds()
    {
        using var limiter = new RlmQueryLimiter(1, TimeSpan.FromMilliseconds(500));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                started.TrySetResult();
                await release.Task.WaitAsync(ct);
                return TestChatClient.Calls(("final", new { answer = "slow answer" }));
            },
        };
        var quick = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Calls(("final", new { answer = "quick answer" }))) };
        var first = new RecursiveLanguageModel(slow, options: new RlmOptions { StreamRootResponses = false }).AsAIFunction(s_corpus, new RlmCorpusToolOptions { QueryLimiter = limiter });
        var second = new RecursiveLanguageModel(quick, options: new RlmOptions { StreamRootResponses = false }).AsAIFunction(s_corpus, new RlmCorpusToolOptions { QueryLimiter = limiter });

        var running = first.InvokeAsync(new AIFunctionArguments { ["question"] = "q1" }).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, limiter.Running);

        var progress = new ConcurrentQueue<RlmEvent>();
        var stopwatch = Stopwatch.StartNew();
        var busy = await Assert.ThrowsAsync<RlmServerBusyException>(async () =>
            await second.InvokeAsync(new AIFunctionArguments { ["question"] = "q2", Services = new ProgressServices(new SyncProgress(progress.Enqueue)) }));
        stopwatch.Stop();

        Assert.Equal("the server is busy: 1 queries are running, the most it runs at once, and this query waited 0.5 s for its turn, the longest a query waits. Try again later.", busy.Message);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(20));
        var queued = Assert.IsType<RlmQueryQueued>(Assert.Single(progress));
        Assert.Equal((1, 1), (queued.Running, queued.MaxConcurrentQueries));
        Assert.Empty(quick.Requests);

        release.SetResult();
        await running;
        Assert.Equal(0, limiter.Running);
        var answer = await second.InvokeAsync(new AIFunctionArguments { ["question"] = "q2" });
        Assert.Contains("quick answer", answer?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultTokenBudget_BindsAQueryWhoseOptionsSetNone_AndTheModelsOwnBudgetWins()
    {
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Calls(new UsageDetails { InputTokenCount = 90, OutputTokenCount = 10, TotalTokenCount = 100 }, ("peek", new { start = 0, length = 10 }))),
        };
        var rlm = new RecursiveLanguageModel(root, options: new RlmOptions { StreamRootResponses = false, MaxIterations = 20 });
        var tool = rlm.AsAIFunction(s_corpus, new RlmCorpusToolOptions { DefaultMaxTotalTokens = 250 });

        var answer = Answer(await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "q" }));

        Assert.Equal("token_budget", answer.StopReason);
        Assert.InRange(answer.InputTokens + answer.OutputTokens, 250, 400);
        Assert.Contains("each query runs at most 600 s and 250 tokens", tool.Description, StringComparison.Ordinal);

        var own = new RecursiveLanguageModel(root, options: new RlmOptions { StreamRootResponses = false, MaxIterations = 20, MaxTotalTokens = 450 })
            .AsAIFunction(s_corpus, new RlmCorpusToolOptions { DefaultMaxTotalTokens = 250 });
        var ownAnswer = Answer(await own.InvokeAsync(new AIFunctionArguments { ["question"] = "q" }));
        Assert.InRange(ownAnswer.InputTokens + ownAnswer.OutputTokens, 450, 600);
        Assert.Contains("450 tokens", own.Description, StringComparison.Ordinal);
    }

    // AIFunctionFactory returns the record serialized (camelCase JSON).
    private static RlmToolAnswer Answer(object? value) =>
        ((JsonElement)value!).Deserialize<RlmToolAnswer>(AIJsonUtilities.DefaultOptions)!;

    private sealed class SyncProgress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }

    private sealed class ProgressServices(IProgress<RlmEvent> progress) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(IProgress<RlmEvent>) ? progress : null;
    }
}
