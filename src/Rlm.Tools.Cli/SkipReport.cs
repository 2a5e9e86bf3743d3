using System.Globalization;
using Rlm.Tools.Context;

namespace Rlm.Tools.Cli;

/// <summary>What <c>--dir</c> left out, as lines for people (<c>-v</c>, <c>rlm mcp</c>'s start-up note).</summary>
internal static class SkipReport
{
    /// <summary>The summary line (<c>7 (3 hidden, 2 symlink, …)</c>) and up to <paramref name="maxPaths"/> paths with their reasons; empty when nothing was skipped.</summary>
    public static IEnumerable<string> Lines(RlmCorpus corpus, int maxPaths)
    {
        if (corpus.SkippedCounts.Count == 0)
        {
            yield break;
        }

        yield return SkipLog.Summary(corpus.SkippedCounts);
        foreach (var skip in corpus.Skipped.Take(maxPaths))
        {
            yield return $"  {TextLimits.OneLine(skip.Path, 200)} [{SkipLog.Code(skip.Reason)}] {skip.Detail}";
        }

        int total = corpus.SkippedCounts.Values.Sum();
        if (maxPaths > 0 && total > maxPaths)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"  … {total - Math.Min(maxPaths, corpus.Skipped.Count):N0} more (--json lists up to {SkipLog.MaxListedPerReason} per reason)");
        }
    }
}
