using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// Several sub-calls asked for at once are estimated before any is sent; a batch over what is left of the token or cost
/// budget is refused as a whole (no worker request, each call reads the estimate, one event), one that fits runs.
/// </summary>
public sealed class SubCallBatchTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 400).Select(i => $"line {i}: the service answered request {i}\n"));

    private static (string, object)[] ThreeSubCalls() =>
    [
        ("sub_llm", new { query = "What happened in part one?", start = 0, end = 4_000 }),
        ("sub_llm", new { query = "What happened in part two?", start = 4_000, end = 8_000 }),
        ("sub_llm", new { query = "What happened in part three?", start = 8_000, end = 12_000 }),
    ];

    private static TestChatClient Worker() => new() { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABatchOverTheTokenBudget_IsRefusedWhole_WithTheEstimate(bool streamed)
    {
        int step = 0;
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(Interlocked.Increment(ref step) == 1
                ? TestChatClient.Calls(ThreeSubCalls())
                : TestChatClient.Calls(("final", new { answer = "done" }))),
        };
        var worker = Worker();
        var events = new List<RlmEvent>();
        var options = new RlmOptions { MaxTotalTokens = 5_000, StreamRootResponses = streamed, Progress = new SyncProgress(events) };
        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);

        Assert.Empty(worker.Requests);
        var results = TestChatClient.LastToolResults(root.Requests[1].Messages);
        Assert.Equal(3, results.Count);
        var refused = Assert.Single(events.OfType<RlmSubCallBatchRefused>());
        Assert.Equal(3, refused.SubCalls);
        Assert.Equal(5_000, refused.RemainingTokens);
        Assert.Null(refused.RemainingCostUsd);
        Assert.InRange(refused.EstimatedTokens, (3 * 4_096) + 3_000, (3 * 4_096) + 6_000); // three ~1,000-token slices, the prompts, the reserves
        Assert.All(results, r =>
        {
            Assert.StartsWith("Error: sub_llm not sent: this batch of 3 sub-calls is estimated at ", r);
            Assert.Contains($"{refused.EstimatedTokens:N0} tokens", r);
            Assert.Contains("more than the 5,000 tokens left of the run's budget", r);
            Assert.Contains("Send fewer or smaller sub-calls", r);
        });
        Assert.Equal(1, result.Statistics.RefusedSubCallBatches);
        Assert.Equal(0, result.Statistics.SubCalls);
        Assert.Equal("done", result.Answer);
    }

    [Fact]
    public async Task ABatchThatFits_Runs()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(ThreeSubCalls()));
        var worker = Worker();
        var events = new List<RlmEvent>();
        var options = new RlmOptions { MaxTotalTokens = 100_000, Progress = new SyncProgress(events) };
        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);

        Assert.Equal(3, worker.Requests.Count);
        Assert.Empty(events.OfType<RlmSubCallBatchRefused>());
        Assert.Equal(0, result.Statistics.RefusedSubCallBatches);
    }

    [Fact]
    public async Task WithoutABudget_NothingIsEstimated()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(ThreeSubCalls()));
        var worker = Worker();
        await new RecursiveLanguageModel(root, worker, new RlmOptions()).QueryAsync("q?", s_context);
        Assert.Equal(3, worker.Requests.Count);
    }

    [Fact]
    public async Task ABatchOverTheCostBudget_IsRefused_WithThePricedEstimate()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(ThreeSubCalls()));
        var worker = Worker();
        var events = new List<RlmEvent>();
        var options = new RlmOptions { WorkerModelId = "gpt-4.1-mini", MaxCostUsd = 0.001m, Progress = new SyncProgress(events) };
        await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);

        Assert.Empty(worker.Requests);
        var refused = Assert.Single(events.OfType<RlmSubCallBatchRefused>());
        var price = options.Prices.Find("gpt-4.1-mini")!;
        decimal reserveCost = 3 * 4_096 * price.OutputPerMillion / 1_000_000m;
        Assert.NotNull(refused.EstimatedCostUsd);
        Assert.InRange(refused.EstimatedCostUsd!.Value, reserveCost, reserveCost + 0.01m);
        Assert.Equal(0.001m, refused.RemainingCostUsd);
        string error = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.Contains("(about $", error);
        Assert.Contains("$0.001 left", error);
    }

    [Fact]
    public async Task ALlmQueryBatchOverTheBudget_IsRefusedWhole()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "const r = llm_query_batched(['one?', 'two?', 'three?']); print(r.join('|'))" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var worker = Worker();
        var events = new List<RlmEvent>();
        var options = new RlmOptions { MaxTotalTokens = 5_000, Progress = new SyncProgress(events) };
        await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_context);

        Assert.Empty(worker.Requests);
        string output = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.Equal(3, output.Split("Error: not sent: this batch of 3 sub-calls is estimated at").Length - 1);
        Assert.Equal(3, Assert.Single(events.OfType<RlmSubCallBatchRefused>()).SubCalls);
    }

    [Fact]
    public void TheEvent_DescribesItself()
    {
        var e = new RlmSubCallBatchRefused(TimeSpan.Zero, 0, 4, 20_000, 0.0123m, 5_000, 0.01m);
        Assert.Equal("sub-call batch refused (depth=0): 4 sub-calls estimated at 20,000 tokens ($0.0123), only 5,000 tokens and $0.01 left; none was sent", e.Describe());
    }

    private sealed class SyncProgress(List<RlmEvent> events) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value)
        {
            lock (events)
            {
                events.Add(value);
            }
        }
    }
}
