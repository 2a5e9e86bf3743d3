using System.Globalization;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// <c>prefix-cache</c>: runs the scripted 20-iteration drill of <see cref="PrefixCacheDrill"/> with compaction (the engine
/// now) and replays the per-iteration trim of the engine before it over the same requests, and prints the figures as
/// Markdown rows (Target | Measured | Reference | Ratio | Met? | Command). No BenchmarkDotNet: the figures are shares and
/// token counts, not times.
/// </summary>
internal static class PrefixCacheCommand
{
    public const string Name = "prefix-cache";

    private const int MaxConversationChars = 30_000;

    public static async Task<int> RunAsync()
    {
        const string Command = "`dotnet run -c Release --project benchmarks/Rlm.Tools.Benchmarks -- prefix-cache`";
        var (now, _, _) = await PrefixCacheDrill.RunAsync("compaction", new RlmOptions { MaxConversationChars = MaxConversationChars });
        var (unbounded, _, untrimmed) = await PrefixCacheDrill.RunAsync("no limit", new RlmOptions { MaxConversationChars = 10_000_000 });
        var before = PrefixCacheDrill.ReplayPerTurnTrim("per-turn trim", untrimmed, MaxConversationChars);

        Console.WriteLine(Invariant($"Scripted root run: {PrefixCacheDrill.Iterations} iterations (grep, peek, sub_llm, exec_js, set_variable), MaxConversationChars {MaxConversationChars:N0}; shares in o200k tokens of the serialized request."));
        Console.WriteLine();
        Console.WriteLine("| request | tokens (now) | unchanged prefix (now) | tokens (before) | unchanged prefix (before) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        for (int i = 0; i < now.Requests.Count; i++)
        {
            var n = now.Requests[i];
            var b = before.Requests[i];
            Console.WriteLine(Invariant($"| {i + 1} | {n.InputTokens:N0} | {n.Share:P1}{(n.AfterCompaction ? " (after compaction)" : "")} | {b.InputTokens:N0} | {b.Share:P1} |"));
        }

        Console.WriteLine();
        Console.WriteLine("| Target | Measured | Reference | Ratio | Met? | Command |");
        Console.WriteLine("|---|---:|---:|---:|---|---|");
        Console.WriteLine(Invariant($"| Unchanged prefix of each root request, mean of requests 2-20, compaction step excluded: ≥ 90% | {now.MeanShareExcludingCompaction:P1} | {before.MeanShare:P1} (per-iteration trim before this change) | {now.MeanShareExcludingCompaction / before.MeanShare:0.00}× | {(now.MeanShareExcludingCompaction >= 0.90 ? "yes" : "no")} | {Command} |"));
        Console.WriteLine(Invariant($"| Unchanged prefix, mean of requests 2-20 with the request after the compaction | {now.MeanShare:P1} | {before.MeanShare:P1} | {now.MeanShare / before.MeanShare:0.00}× | — | {Command} |"));
        Console.WriteLine(Invariant($"| Requests that rewrite earlier messages (of 19) | {Rewrites(now)} (compaction: {now.Compactions}, one summary request) | {Rewrites(before)} | — | {(Rewrites(now) < Rewrites(before) ? "yes" : "no")} | {Command} |"));
        Console.WriteLine(Invariant($"| Cached input tokens reported (`CachedInputTokenCount`, summed in `RlmResult.Usage`) | {now.CachedInputTokens:N0} of {now.InputTokens:N0} ({(double)now.CachedInputTokens / now.InputTokens:P0}) | — | — | yes | {Command} |"));
        Console.WriteLine(Invariant($"| Run cost with cached input at the cached price (gpt-4.1: $2 / $0.50 / $8 per 1M) | ${now.CostUsd:0.0000} | ${now.CostWithoutCacheUsd:0.0000} (all input at the full price) | {now.CostUsd / now.CostWithoutCacheUsd:0.00}× | yes | {Command} |"));
        Console.WriteLine(Invariant($"| Mean unchanged prefix without any limit reached (upper bound of the script) | {unbounded.MeanShare:P1} | — | — | — | {Command} |"));
        return 0;
    }

    private static int Rewrites(PrefixCacheReport report) =>
        report.Requests.Skip(1).Count(r => r.PrefixTokens < report.Requests[r.Index - 1].InputTokens);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
