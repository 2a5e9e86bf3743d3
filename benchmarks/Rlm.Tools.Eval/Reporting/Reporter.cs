using System.Globalization;
using System.Text;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Reporting;

/// <summary>
/// Turns results files into Markdown: per family, one table with a column per (file, mode, model) run — side by side
/// when several files are given — and a second table of mean score by context length; then, per run, each task's score
/// with a link to its trajectory.
/// </summary>
public static class Reporter
{
    /// <summary>One column: the results of one mode and model from one file.</summary>
    /// <param name="Label">The column's title.</param>
    /// <param name="Results">The results.</param>
    /// <param name="ResultsPath">The results file, against whose folder <see cref="EvalResult.Trajectory"/> paths resolve; <see langword="null"/>: no trajectory links.</param>
    public sealed record Run(string Label, IReadOnlyList<EvalResult> Results, string? ResultsPath = null);

    /// <summary>Loads results files; in each, the last result of a task wins (a resumed run may have retried it).</summary>
    public static List<Run> Load(IReadOnlyList<string> paths)
    {
        var runs = new List<(Run Run, string File)>();
        foreach (var path in paths)
        {
            var results = new List<EvalResult>();
            foreach (var line in File.ReadLines(path))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                try
                {
                    results.Add(Jsonl.Deserialize<EvalResult>(line));
                }
                catch (System.Text.Json.JsonException)
                {
                    // A torn last line of an interrupted run: skip it.
                }
            }

            var latest = results.GroupBy(r => r.TaskId, StringComparer.Ordinal).Select(g => g.Last()).ToList();
            foreach (var group in latest.GroupBy(r => (r.Mode, r.Model)).OrderBy(g => g.Key.Mode, StringComparer.Ordinal).ThenBy(g => g.Key.Model, StringComparer.Ordinal))
            {
                runs.Add((new Run(group.Key.Mode + " · " + group.Key.Model, group.ToList(), path), Path.GetFileName(path)));
            }
        }

        // Two columns with the same mode and model (e.g. two endpoints): name the file too.
        var shared = runs.GroupBy(r => r.Run.Label).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        return runs.Select(r => shared.Contains(r.Run.Label) ? r.Run with { Label = r.Run.Label + " (" + r.File + ")" } : r.Run).ToList();
    }

    /// <summary>Renders the report.</summary>
    /// <param name="runs">The columns.</param>
    /// <param name="sources">The results files, named at the top.</param>
    /// <param name="reportDirectory">The folder the report is written to, which trajectory links are relative to; <see langword="null"/>: the current folder.</param>
    public static string Render(IReadOnlyList<Run> runs, IReadOnlyList<string>? sources = null, string? reportDirectory = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# rlm-eval report");
        sb.AppendLine();
        if (sources is { Count: > 0 })
        {
            sb.AppendLine("Results: " + string.Join(", ", sources.Select(s => "`" + Path.GetFileName(s) + "`")) + ".");
        }

        sb.AppendLine("Scores are means over tasks (a failed task scores 0). Tokens are as reported by the models (the offline model estimates characters / 4). Latency is wall time per task.");
        sb.AppendLine();
        var families = runs.SelectMany(r => r.Results.Select(x => x.Family)).Distinct()
            .OrderBy(f => Families.All.Contains(f) ? Families.All.ToList().IndexOf(f) : int.MaxValue).ThenBy(f => f, StringComparer.Ordinal).ToList();
        foreach (var family in families)
        {
            var columns = runs.Where(r => r.Results.Any(x => x.Family == family))
                .Select(r => (r.Label, Results: r.Results.Where(x => x.Family == family).ToList())).ToList();
            sb.AppendLine("## " + Families.Title(family));
            sb.AppendLine();
            sb.AppendLine("| | " + string.Join(" | ", columns.Select(c => Escape(c.Label))) + " |");
            sb.AppendLine("|---|" + string.Concat(columns.Select(_ => "---:|")));
            Row(sb, "tasks (failed)", columns, r => string.Create(CultureInfo.InvariantCulture, $"{r.Count} ({r.Count(x => x.Error is not null)})"));
            Row(sb, "mean score", columns, r => F(r.Average(x => x.Score), "0.000"));
            Row(sb, "total cost (USD)", columns, r => Cost(r, total: true));
            Row(sb, "cost per task (USD)", columns, r => Cost(r, total: false));
            Row(sb, "latency p50 (s)", columns, r => F(Percentile(r.Select(x => x.WallTimeMs / 1000), 0.50), "0.00"));
            Row(sb, "latency p95 (s)", columns, r => F(Percentile(r.Select(x => x.WallTimeMs / 1000), 0.95), "0.00"));
            Row(sb, "input tokens per task", columns, r => Tokens(r.Average(x => (double)x.InputTokens)));
            Row(sb, "output tokens per task", columns, r => Tokens(r.Average(x => (double)x.OutputTokens)));
            Row(sb, "model calls per task", columns, r => F(r.Average(x => (double)x.ModelCalls), "0.0"));
            Row(sb, "sub-calls per task", columns, r => F(r.Average(x => (double)x.SubCalls), "0.0"));
            if (columns.Any(c => c.Results.Any(x => x.Citations > 0)))
            {
                Row(sb, "verified citations (mean share per task)", columns, VerifiedShare);
            }

            if (columns.Any(c => c.Results.Any(x => x.Cut is not null)))
            {
                Row(sb, "contexts cut (direct)", columns, r => r.Any(x => x.Cut is not null) ? string.Create(CultureInfo.InvariantCulture, $"{r.Count(x => x.Cut == true)}") : "–");
            }

            sb.AppendLine();
            var lengths = columns.SelectMany(c => c.Results.Select(x => x.TargetTokens)).Distinct().Order().ToList();
            Breakdown(sb, "Mean score by context length (tokens ≈ characters / 4):", "tokens", columns, lengths, TokensLabel, (x, length) => x.TargetTokens == length);

            var kinds = columns.SelectMany(c => c.Results.Select(x => x.Kind)).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
            if (kinds.Count > 1)
            {
                Breakdown(sb, "Mean score by question kind:", "kind", columns, kinds, k => k, (x, kind) => x.Kind == kind);
            }
        }

        Trajectories(sb, runs, reportDirectory);
        return sb.ToString();
    }

    /// <summary>Per run, every task (lowest score first) with a link to its trajectory, relative to the report.</summary>
    private static void Trajectories(StringBuilder sb, IReadOnlyList<Run> runs, string? reportDirectory)
    {
        var linked = runs.Where(r => r.ResultsPath is not null && r.Results.Any(x => x.Trajectory is not null)).ToList();
        if (linked.Count == 0)
        {
            return;
        }

        string from = Path.GetFullPath(string.IsNullOrEmpty(reportDirectory) ? "." : reportDirectory);
        sb.AppendLine("## Trajectories");
        sb.AppendLine();
        sb.AppendLine("Each task's run, as `rlm --trajectory` writes it (JSON Lines). Render one as a web page with `rlm view <file> -o out.html`.");
        sb.AppendLine();
        foreach (var run in linked)
        {
            string folder = Path.GetDirectoryName(Path.GetFullPath(run.ResultsPath!)) ?? from;
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"<details><summary>{Html(run.Label)}: {run.Results.Count(x => x.Trajectory is not null)} trajectories</summary>"));
            sb.AppendLine();
            sb.AppendLine("| task | family | score | verified citations | trajectory |");
            sb.AppendLine("|---|---|---:|---:|---|");
            foreach (var r in run.Results.OrderBy(x => x.Score).ThenBy(x => x.TaskId, StringComparer.Ordinal))
            {
                string link = "–";
                if (r.Trajectory is not null)
                {
                    string target = Path.GetRelativePath(from, Path.Combine(folder, r.Trajectory)).Replace('\\', '/');
                    link = "[" + Escape(r.Trajectory) + "](" + Uri.EscapeDataString(target).Replace("%2F", "/", StringComparison.Ordinal) + ")";
                }

                sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {Escape(r.TaskId)}{(r.Error is null ? "" : " (failed)")} | {Escape(r.Family)} | {r.Score:0.000} | {(r.Citations > 0 ? $"{r.VerifiedCitations} of {r.Citations}" : "–")} | {link} |"));
            }

            sb.AppendLine();
            sb.AppendLine("</details>");
            sb.AppendLine();
        }
    }

    private static string Html(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    private static void Breakdown<TKey>(
        StringBuilder sb, string title, string keyName, List<(string Label, List<EvalResult> Results)> columns,
        List<TKey> keys, Func<TKey, string> keyLabel, Func<EvalResult, TKey, bool> inGroup)
    {
        sb.AppendLine(title);
        sb.AppendLine();
        sb.AppendLine("| " + keyName + " | " + string.Join(" | ", columns.Select(c => Escape(c.Label))) + " |");
        sb.AppendLine("|---|" + string.Concat(columns.Select(_ => "---:|")));
        foreach (var key in keys)
        {
            sb.Append("| ").Append(Escape(keyLabel(key))).Append(" |");
            foreach (var c in columns)
            {
                var subset = c.Results.Where(x => inGroup(x, key)).ToList();
                sb.Append(' ').Append(subset.Count == 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{subset.Average(x => x.Score):0.000} (n={subset.Count})")).Append(" |");
            }

            sb.AppendLine();
        }

        sb.AppendLine();
    }

    private static void Row(StringBuilder sb, string name, List<(string Label, List<EvalResult> Results)> columns, Func<List<EvalResult>, string> cell)
    {
        sb.Append("| ").Append(name).Append(" |");
        foreach (var c in columns)
        {
            sb.Append(' ').Append(c.Results.Count == 0 ? "–" : cell(c.Results)).Append(" |");
        }

        sb.AppendLine();
    }

    /// <summary>The mean, over the tasks whose answer cites anything, of the share of its citations the host verified.</summary>
    private static string VerifiedShare(List<EvalResult> results)
    {
        var citing = results.Where(x => x.Citations > 0).ToList();
        return citing.Count == 0 ? "–"
            : string.Create(CultureInfo.InvariantCulture, $"{citing.Average(x => (double)(x.VerifiedCitations ?? 0) / x.Citations!.Value):0.0%} (n={citing.Count})");
    }

    private static string Cost(List<EvalResult> results, bool total)
    {
        if (results.Any(r => r.CostUsd is null))
        {
            return "n/a (unpriced)";
        }

        var sum = results.Sum(r => r.CostUsd!.Value);
        return F(total ? sum : sum / results.Count, "0.0000");
    }

    private static string Tokens(double value) => value >= 10_000
        ? string.Create(CultureInfo.InvariantCulture, $"{value / 1000:0.0}K")
        : F(value, "0");

    private static string TokensLabel(int tokens) => tokens % 1024 == 0
        ? (tokens % (1024 * 1024) == 0 ? string.Create(CultureInfo.InvariantCulture, $"{tokens / (1024 * 1024)}M") : string.Create(CultureInfo.InvariantCulture, $"{tokens / 1024}K"))
        : tokens.ToString(CultureInfo.InvariantCulture);

    private static string F(double value, string format) => double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
