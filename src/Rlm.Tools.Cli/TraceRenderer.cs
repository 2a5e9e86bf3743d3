using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Rlm.Tools.Cli;

/// <summary>
/// Renders a finished run on stderr: the execution trace as a Spectre.Console <see cref="Tree"/> (per-node time in ms,
/// parallel <c>sub_llm</c> calls of one model reply grouped under a <c>[parallel xN]</c> node) and the statistics block.
/// Spectre.Console writes to the raw standard error (its colors must pass), so every text from the run that it is handed
/// (labels, summaries, model ids, tool names) is made inert first (<see cref="TerminalText"/>).
/// </summary>
internal static class TraceRenderer
{
    private const int MaxLabel = 110;
    private const int MaxSummary = 90;

    /// <summary>
    /// Creates a console over stderr. ANSI and colors are off when stderr is redirected or <c>NO_COLOR</c> is set; a redirected
    /// stderr gets a wide fixed width so that log files do not wrap at 80 columns.
    /// </summary>
    public static IAnsiConsole CreateStderrConsole()
    {
        bool plain = Console.IsErrorRedirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(TerminalText.RawStandardError),
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = InteractionSupport.No,
        });
        if (Console.IsErrorRedirected)
        {
            console.Profile.Width = 200;
        }

        return console;
    }

    /// <summary>Writes what <c>-v</c> shows after a run to stderr: the trace tree, then the statistics.</summary>
    public static void WriteReport(RlmResult result)
    {
        var console = CreateStderrConsole();
        console.WriteLine();
        WriteTrace(console, result.Trajectory);
        console.WriteLine();
        WriteStatistics(console, result);
    }

    /// <summary>Writes the trace tree.</summary>
    public static void WriteTrace(IAnsiConsole console, RlmTraceNode trajectory)
    {
        console.WriteLine("Execution trace:");

        // The tool calls and results below are the model-facing contract, shown verbatim; say how to read their numbers.
        console.MarkupLine("[grey](tool calls and results as the model sent and received them: line numbers and offsets are 0-based, document:line is 1-based)[/]");
        var tree = new Tree(NodeMarkup(trajectory));
        AddChildren(tree, trajectory);
        console.Write(tree);
    }

    /// <summary>Writes the statistics block.</summary>
    public static void WriteStatistics(IAnsiConsole console, RlmResult result)
    {
        var s = result.Statistics;
        bool unicode = console.Profile.Capabilities.Unicode;
        string rule = new(unicode ? '═' : '=', 50);
        string bar = unicode ? "│" : "|";
        int toolCalls = s.ToolCalls.Values.Sum();
        var lines = new List<string>
        {
            rule,
            Invariant($"  Model calls: {s.ModelCalls:N0} ({s.ModelRetries:N0} retries, {s.FailedModelCalls:N0} failed)  {bar}  Iterations: {s.Iterations:N0} (root {s.RootIterations:N0})  {bar}  Tool calls: {toolCalls:N0}"),
            Invariant($"  Sub-calls: {s.SubCalls:N0} ({s.FailedSubCalls:N0} failed{(s.MemoizedSubCalls > 0 ? $", {s.MemoizedSubCalls:N0} more memoized" : "")}{(s.SplitSubCalls > 0 ? $", {s.SplitSubCalls:N0} split into parts" : "")}{(s.RefusedSubCallBatches > 0 ? $", {s.RefusedSubCallBatches:N0} batch{(s.RefusedSubCallBatches == 1 ? "" : "es")} refused" : "")})  {bar}  Max depth: {s.MaxDepthReached}  {bar}  Peak concurrency: {s.PeakConcurrency}"),
            Invariant($"  Tokens: {result.Usage.InputTokenCount ?? 0:N0} in / {result.Usage.OutputTokenCount ?? 0:N0} out{(result.Usage.CachedInputTokenCount is > 0 and var cached ? $" ({cached:N0} input cached)" : "")}{(result.CostUsd is { } cost ? $"  {bar}  Cost: ${cost:0.0000}" : "")}{(s.Compactions > 0 ? $"  {bar}  Compactions: {s.Compactions:N0}" : "")}"),
        };
        if (s.RefusedFunctionCalls > 0 || s.DroppedTraceNodes > 0)
        {
            // Bounds on untrusted model output: say when they bit, so a short trace or a failing reply is explained.
            lines.Add(Invariant($"  Bounds: {s.RefusedFunctionCalls:N0} function calls not run (over the per-reply cap)  {bar}  {s.DroppedTraceNodes:N0} trace nodes not stored"));
        }

        if (result.UsageByModel.Count > 1)
        {
            lines.Add("  By model: " + string.Join("; ", result.UsageByModel.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => Invariant($"{TerminalText.Inert(p.Key)} {p.Value.InputTokenCount ?? 0:N0} in / {p.Value.OutputTokenCount ?? 0:N0} out"))));
        }

        lines.Add(Invariant($"  Time: {s.WallTime.TotalSeconds:F2}s  {bar}  Stop: {RlmStopReasonText.GetName(result.StopReason)}"));
        lines.Add("  Tools: " + (s.ToolCalls.Count == 0 ? "none" : string.Join(", ", s.ToolCalls.Select(p => Invariant($"{TerminalText.Inert(p.Key)}:{p.Value}")))));
        lines.Add(rule);
        foreach (var line in lines)
        {
            console.WriteLine(line);
        }
    }

    private static void AddChildren(IHasTreeNodes parent, RlmTraceNode node)
    {
        var children = node.Children;
        for (int i = 0; i < children.Count; i++)
        {
            int run = ParallelRun(children, i);
            if (run >= 2)
            {
                var group = children.Skip(i).Take(run).ToList();
                var start = group.Min(c => c.StartedAt);
                var end = group.Max(c => c.StartedAt + c.Duration);
                var sum = group.Aggregate(TimeSpan.Zero, (t, c) => t + c.Duration);
                var groupNode = parent.AddNode(new Markup(Invariant(
                    $"[bold]{Markup.Escape($"[parallel x{run}]")}[/] sub_llm [grey]{Ms(end - start)} wall, {Ms(sum)} summed[/]")));
                foreach (var child in group)
                {
                    AddChildren(groupNode.AddNode(NodeMarkup(child)), child);
                }

                i += run - 1;
                continue;
            }

            AddChildren(parent.AddNode(NodeMarkup(children[i])), children[i]);
        }
    }

    /// <summary>The length of the run of consecutive <c>sub_llm</c> tool calls starting at <paramref name="index"/> (they ran in parallel).</summary>
    private static int ParallelRun(IReadOnlyList<RlmTraceNode> siblings, int index)
    {
        int end = index;
        while (end < siblings.Count && siblings[end].Kind == RlmTraceKind.ToolCall && siblings[end].Label.StartsWith("sub_llm(", StringComparison.Ordinal))
        {
            end++;
        }

        return end - index;
    }

    private static IRenderable NodeMarkup(RlmTraceNode node)
    {
        var text = new StringBuilder();
        string label = Markup.Escape(Truncate(node.Label, MaxLabel));
        text.Append(node.Kind switch
        {
            RlmTraceKind.Session => $"[bold]{label}[/]",
            RlmTraceKind.ModelCall => $"[blue]{label}[/]",
            RlmTraceKind.Leaf => $"[magenta]{label}[/]",
            _ => label,
        });
        text.Append(Invariant($" [grey]{Ms(node.Duration)}[/]"));
        if (!string.IsNullOrWhiteSpace(node.Summary))
        {
            string summary = Markup.Escape(Truncate(node.Summary, MaxSummary));
            text.Append(node.IsError ? $" [red]error: {summary}[/]" : $" [grey]-> {summary}[/]");
        }
        else if (node.IsError)
        {
            text.Append(" [red]error[/]");
        }

        return new Markup(text.ToString());
    }

    private static string Ms(TimeSpan time) => Invariant($"{Math.Round(time.TotalMilliseconds):N0} ms");

    private static string Truncate(string text, int max)
    {
        string line = TerminalText.Inert(text.ReplaceLineEndings(" ").Trim());
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
