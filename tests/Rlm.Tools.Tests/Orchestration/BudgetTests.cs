using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>Token, cost, time and error budgets, enforced under parallel fan-out with usage reported by every call.</summary>
public sealed class BudgetTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 400).Select(i => $"row {i:D3} some text\n"));

    // Distinct queries per step: identical sub-calls of a run are memoized (answered once, no budget spent).
    private static ChatResponse FanOut(int count, int step = 0) =>
        TestChatClient.Calls(new UsageDetails { InputTokenCount = 100, OutputTokenCount = 10 },
            [.. Enumerable.Range(0, count).Select(i => ("sub_llm", (object)new { query = $"part {i} (step {step})", start = i * 100, end = i * 100 + 100 }))]);

    private static TestChatClient Worker(int inputTokens, int delayMs = 5) => new()
    {
        GetResponseAsyncCallback = async (_, _, ct) =>
        {
            await Task.Delay(delayMs, ct);
            return TestChatClient.Text("worker result", new UsageDetails { InputTokenCount = inputTokens, OutputTokenCount = 10 });
        },
    };

    [Fact]
    public async Task TokenBudget_UnderParallelFanOut_IsExceededByAtMostTheRequestsInFlight()
    {
        const int Concurrency = 3;
        var worker = Worker(1_000);
        var root = new ScriptedChatClient(_ => FanOut(20, 0), _ => FanOut(20, 1), _ => FanOut(20, 2));
        // Short prompts and no answer reserve keep each batch's estimate (SubCallBatchTests) under the budget, so the fan-out
        // is sent and the fake usage of 1,000 tokens per worker request is what spends it.
        var options = new RlmOptions { MaxTotalTokens = 5_000, MaxConcurrency = Concurrency, MaxSubCalls = 100, LeafSystemPrompt = "Answer.", SubCallOutputReserveTokens = 0 };

        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);

        long used = (result.Usage.InputTokenCount ?? 0) + (result.Usage.OutputTokenCount ?? 0);
        Assert.Equal(RlmStopReason.TokenBudget, result.StopReason);
        Assert.InRange(used, 4_500, 5_000 + Concurrency * 1_010); // the bound: what was in flight when it was reached
        Assert.True(result.Statistics.FailedSubCalls > 0);
        static IEnumerable<RlmTraceNode> Flatten(RlmTraceNode n) => n.Children.SelectMany(Flatten).Prepend(n);
        Assert.Contains(Flatten(result.Trajectory), n => n.IsError && (n.Summary ?? "").Contains("token budget of 5,000 tokens is spent", StringComparison.Ordinal));
        Assert.True(worker.Requests.Count < 20, $"{worker.Requests.Count} worker requests were sent");
        Assert.Equal("", result.Answer); // the root never wrote text: no answer, and no note in its place
        Assert.Contains("token budget", result.StopMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CostBudget_UsesThePriceTable_AndTheResultShowsTheCost()
    {
        var prices = new RlmPriceTable();
        prices.Set("root-m", new RlmModelPrice(10m, 1m, 20m));   // $ per 1M tokens
        prices.Set("worker-m", new RlmModelPrice(100m, 10m, 100m));
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "w"))
            {
                ModelId = "worker-m",
                Usage = new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 0 }, // $0.10 each
            }),
        };
        var root = new ScriptedChatClient(_ => FanOut(4, 0), _ => FanOut(4, 1), _ => FanOut(4, 2), _ => FanOut(4, 3));
        var options = new RlmOptions { MaxCostUsd = 0.5m, MaxConcurrency = 1, Prices = prices, RootModelId = "root-m", WorkerModelId = "worker-m", LeafSystemPrompt = "Answer.", SubCallOutputReserveTokens = 0 };

        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.CostBudget, result.StopReason);
        Assert.NotNull(result.CostUsd);
        Assert.InRange(result.CostUsd!.Value, 0.45m, 0.5m + 0.1m + 0.01m);
        Assert.True(worker.Requests.Count <= 5);

        // Each model call of the trajectory carries its model, usage and cost.
        static IEnumerable<RlmTraceNode> Flatten(RlmTraceNode n) => n.Children.SelectMany(Flatten).Prepend(n);
        Assert.Contains(Flatten(result.Trajectory), n => n.ModelId == "worker-m" && n.Usage?.InputTokenCount == 1_000 && n.CostUsd == 0.1m);
    }

    [Fact]
    public void PriceTable_FindsByPrefixAndProviderPrefix_AndUnknownModelsHaveNoCost()
    {
        var table = RlmPriceTable.Default;

        Assert.Equal(0.40m, table.Find("gpt-4.1-mini-2025-04-14")!.InputPerMillion);
        Assert.Equal(2m, table.Find("openai/gpt-4.1")!.InputPerMillion);
        Assert.Null(table.Find("llama-3-70b"));
        Assert.Equal(2m * 0.5m + 0.5m * 0.5m + 8m * 0.1m,
            table.Cost("gpt-4.1", new UsageDetails { InputTokenCount = 1_000_000, CachedInputTokenCount = 500_000, OutputTokenCount = 100_000 }));
        Assert.Null(table.Cost(new Dictionary<string, UsageDetails> { ["gpt-4.1"] = new() { InputTokenCount = 1 }, ["mystery"] = new() { InputTokenCount = 1 } }));
    }

    [Fact]
    public void PriceTable_ModelIds_AreThePricedIds_SortedOrdinally()
    {
        var table = RlmPriceTable.Default;

        Assert.Equal(["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano", "o3", "o4-mini"], table.ModelIds);
        Assert.All(table.ModelIds, id => Assert.NotNull(table.Find(id)));
        table.Set("my-model", new RlmModelPrice(1m, 0.5m, 2m));
        table.Set("GPT-5", new RlmModelPrice(1m, 0.5m, 2m)); // case-insensitive: replaces gpt-5
        Assert.Equal(11, table.ModelIds.Count);
        Assert.Contains("my-model", table.ModelIds);
        Assert.Empty(new RlmPriceTable().ModelIds);
    }

    [Fact]
    public async Task TimeBudget_StopsTheRun_WithTheBestAnswerSoFar()
    {
        // The run's clock is a fake one that each root reply moves on by 400 ms: the budget of 1 s is spent after the
        // third reply, whatever else the machine is doing.
        var clock = new FakeTimeProvider();
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) =>
            {
                clock.Advance(TimeSpan.FromMilliseconds(400));
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant,
                    [new TextContent("Looking: the answer is probably row 042."), new FunctionCallContent(Guid.NewGuid().ToString("N"), "peek", new Dictionary<string, object?> { ["start"] = 0, ["end"] = 10 })])));
            },
        };

        var result = await new RecursiveLanguageModel(root, options: new RlmOptions { MaxWallTime = TimeSpan.FromMilliseconds(1_000), TimeProvider = clock }).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.TimeBudget, result.StopReason);
        Assert.Equal("Looking: the answer is probably row 042.", result.Answer);
        Assert.Equal(3, root.Requests.Count); // 400, 800, 1,200 ms: no request after the budget is spent, no last call at a time budget
    }

    [Fact]
    public async Task ConsecutiveErrors_EndTheRunWithALastToolLessAnswer()
    {
        int step = 0;
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, options, _) => Task.FromResult(options!.ToolMode == ChatToolMode.None
                ? TestChatClient.Text("my best answer")
                : TestChatClient.Calls(("grep", new { pattern = "(" + Interlocked.Increment(ref step) }))),
        };

        var result = await new RecursiveLanguageModel(root, options: new RlmOptions { MaxConsecutiveErrors = 3 }).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.ErrorLimit, result.StopReason);
        Assert.Equal("my best answer", result.Answer);
        Assert.Equal(4, root.Requests.Count); // three failing iterations, then the last call
    }

    [Fact]
    public void Budgets_RejectNonsense()
    {
        var options = new RlmOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxTotalTokens = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxCostUsd = 0m);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxWallTime = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxConsecutiveErrors = 0);
        Assert.Null(new RlmOptions().MaxTotalTokens);
        Assert.Equal(10, new RlmOptions().MaxConsecutiveErrors);
    }
}
