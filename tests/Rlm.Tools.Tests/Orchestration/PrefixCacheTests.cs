using Microsoft.Extensions.AI;
using Rlm.Tools.Orchestration;
using Rlm.Tools.Tests.TestSupport;
using Xunit.Abstractions;

namespace Rlm.Tools.Tests.Orchestration;

public class PrefixCacheTests(ITestOutputHelper output)
{
    /// <summary>The drill's conversation grows past this once in 20 iterations, so it is compacted once.</summary>
    internal const int DrillMaxConversationChars = 30_000;

    [Fact]
    public async Task TwentyIterations_EachRequestExtendsThePrevious_ExceptTheOneCompaction()
    {
        var (report, result, requests) = await PrefixCacheDrill.RunAsync("compaction", new RlmOptions { MaxConversationChars = DrillMaxConversationChars });
        foreach (var r in report.Requests)
        {
            output.WriteLine($"#{r.Index}: {requests[r.Index].Sum(ConversationBudget.Size)} chars, {r.InputTokens} tokens, prefix {r.PrefixTokens} ({r.Share:P1}){(r.AfterCompaction ? " after compaction" : "")}");
        }

        output.WriteLine($"mean {report.MeanShareExcludingCompaction:P1} excluding compaction, {report.MeanShare:P1} all; cached {report.CachedInputTokens} of {report.InputTokens}; cost {report.CostUsd} vs {report.CostWithoutCacheUsd}");

        Assert.Equal(PrefixCacheDrill.Iterations, report.Requests.Count);
        Assert.Equal(1, report.Compactions);
        Assert.Equal(1, report.SummaryRequests);
        Assert.Single(report.Requests, r => r.AfterCompaction);

        // Between compactions every request starts with the whole previous request, unchanged.
        for (int i = 1; i < requests.Count; i++)
        {
            if (!report.Requests[i].AfterCompaction)
            {
                Assert.StartsWith(PrefixCacheDrill.Serialize(requests[i - 1]), PrefixCacheDrill.Serialize(requests[i]), StringComparison.Ordinal);
            }
        }

        Assert.True(report.MeanShareExcludingCompaction >= 0.90, $"mean unchanged prefix {report.MeanShareExcludingCompaction:P1}");
        Assert.True(requests.Max(r => r.Sum(ConversationBudget.Size)) <= DrillMaxConversationChars);

        // The provider's cached tokens reach the result, and are billed at the cached price.
        Assert.True(report.CachedInputTokens > report.InputTokens / 2, $"{report.CachedInputTokens} cached of {report.InputTokens}");
        Assert.Equal(result.UsageByModel["gpt-4.1"].CachedInputTokenCount, report.CachedInputTokens);
        Assert.NotNull(report.CostUsd);
        Assert.True(report.CostUsd < report.CostWithoutCacheUsd * 0.8m, $"{report.CostUsd} vs {report.CostWithoutCacheUsd}");
    }

    [Fact]
    public async Task PerTurnTrim_TheOldWay_BreaksThePrefixOnEveryRequestPastTheLimit()
    {
        // The same run with no limit reached, then the per-iteration trim replayed over its requests: every request past the
        // limit rewrites older results, so its unchanged prefix shrinks. The measure above must tell the two apart.
        var (untrimmed, _, requests) = await PrefixCacheDrill.RunAsync("no limit", new RlmOptions { MaxConversationChars = 10_000_000 });
        var replay = PrefixCacheDrill.ReplayPerTurnTrim("per-turn trim", requests, DrillMaxConversationChars);
        output.WriteLine($"no limit {untrimmed.MeanShare:P1}; per-turn trim {replay.MeanShare:P1}");

        Assert.Equal(0, untrimmed.Compactions);
        Assert.True(untrimmed.MeanShare >= 0.90);
        // Compared by what must be processed again (the part past the unchanged prefix), not by the shares themselves: the
        // system prompt is an unchanged prefix of every request, so a longer prompt moves both shares towards 100 %.
        double again = 1 - untrimmed.MeanShare, replayAgain = 1 - replay.MeanShare;
        Assert.True(replayAgain > again * 1.25, $"per-turn trim {replay.MeanShare:P1} vs {untrimmed.MeanShare:P1}");
        Assert.Contains(replay.Requests, r => r.Share < 0.5);
    }
}
