using System.Globalization;

namespace Rlm.Tools.Cli;

/// <summary>The header <c>rlm -v</c> writes before a run: the input, what was skipped or decoded, the models, limits and budgets.</summary>
internal static class RunHeader
{
    /// <summary>Writes the header of a verbose run, ending with a rule of dashes.</summary>
    public static void Write(ProgressPrinter printer, CliInput input, ModelSetup models, int maxIterations, int maxDepth, int maxConcurrency, CliBudgets budgets)
    {
        string documents = input.Documents is { } docs ? $", {Count(docs.Count, "document")} (header lines included)" : string.Empty;
        printer.WriteLine(Invariant($"Input: {input.Source}"));
        foreach (var line in SkipReport.Lines(input.Corpus, maxPaths: 20))
        {
            printer.WriteLine(line.StartsWith(' ') ? line : $"Skipped: {line}");
        }

        foreach (var line in DecodingReport.Lines(input, maxFiles: 20))
        {
            printer.WriteLine(line);
        }

        printer.WriteLine($"Context: {Count(input.Chars, "char")}, {Count(input.Lines, "line")}{documents}");
        string where = models.Endpoint is { } url ? $" @ {url}" : " (keyword retrieval, not an LLM)";
        printer.WriteLine($"Root model: {models.Provider}/{models.RootModel}{where}");
        printer.WriteLine($"Worker model: {models.Provider}/{models.WorkerModel}");
        printer.WriteLine(Invariant($"Limits: {maxIterations} iterations, depth {maxDepth}, {maxConcurrency} concurrent requests"));
        if (budgets is not { MaxTokens: null, MaxCostUsd: null, MaxWallTime: null })
        {
            var limits = new List<string>();
            if (budgets.MaxTokens is { } tokens)
            {
                limits.Add(Invariant($"{tokens:N0} tokens"));
            }

            if (budgets.MaxCostUsd is { } usd)
            {
                limits.Add(Invariant($"${usd:0.00##}"));
            }

            if (budgets.MaxWallTime is { } time)
            {
                limits.Add(Invariant($"{time.TotalSeconds:0.###} s"));
            }

            printer.WriteLine($"Budgets: {string.Join(", ", limits)}");
        }

        printer.WriteLine(new string('-', 50));
    }

    private static string Count(long n, string noun) => Invariant($"{n:N0} {noun}{(n == 1 ? "" : "s")}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
