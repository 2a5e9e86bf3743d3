using System.Globalization;

namespace Rlm.Tools.Cli;

/// <summary>
/// Writes the run's events (<see cref="RlmOptions.Progress"/>: the engine's one event path, the same events
/// <see cref="RecursiveLanguageModel.QueryStreamingAsync(string, RlmCorpus, CancellationToken)"/> yields) to stderr, one
/// line each. The engine reports synchronously from many threads (parallel sub-calls), so each line is written under a
/// lock; <see cref="Progress{T}"/> is not used because it posts to a synchronization context and would reorder lines.
/// </summary>
internal sealed class ProgressPrinter(TextWriter writer) : IProgress<RlmEvent>
{
    private readonly Lock _lock = new();

    /// <summary>Gets or sets whether events are printed (the run ends by turning it off, so late events cannot interleave with the trace).</summary>
    public bool Enabled { get; set; } = true;

    /// <inheritdoc />
    public void Report(RlmEvent value)
    {
        if (Format(value) is not { } line)
        {
            return;
        }

        lock (_lock)
        {
            if (Enabled)
            {
                writer.WriteLine(line);
                writer.Flush();
            }
        }
    }

    /// <summary>Writes a line under the same lock as the events.</summary>
    public void WriteLine(string line)
    {
        lock (_lock)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    /// <summary>
    /// Formats an event: elapsed time, indentation by depth, and a marker by kind; <see langword="null"/> for the events
    /// <c>-v</c> does not show as lines (model responses and tool results, which the trace after the run shows, and the
    /// run's completion, which the answer shows).
    /// </summary>
    internal static string? Format(RlmEvent e)
    {
        string time = string.Create(CultureInfo.InvariantCulture, $"[{e.Elapsed.TotalSeconds,7:F2}s] ");
        string indent = new(' ', Math.Max(0, e.Depth) * 4);
        string parentIndent = new(' ', Math.Max(0, e.Depth - 1) * 4);
        return e switch
        {
            RlmModelResponded or RlmToolCallEnded or RlmRunCompleted => null,
            RlmToolCallStarted or RlmParallelCalls => $"{time}{indent}  {Text(e)}",
            RlmSubCallStarted => $"{time}{parentIndent}  -> {Text(e)}",
            RlmSubCallEnded => $"{time}{parentIndent}  <- {Text(e)}",
            RlmModelRetry => $"{time}{indent}  ! {Text(e)}",
            RlmCitationsChecked citations => Citations(time, citations),
            _ => $"{time}{indent}{Text(e)}", // iterations, the end of iterations, sessions done, budget warnings
        };
    }

    /// <summary>The count of verified citations, then one line per unverified citation with its reason.</summary>
    private static string Citations(string time, RlmCitationsChecked e)
    {
        var lines = new List<string> { $"{time}{Text(e)}" };
        foreach (var c in e.Citations.Where(c => !c.Verified))
        {
            string quote = c.Quote is null ? "" : $" \"{Rlm.Tools.Context.TextLimits.OneLine(c.Quote, 80)}\"";
            lines.Add($"{time}  x unverified {c.Text}{quote}: {c.Reason}");
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static string Text(RlmEvent e) => e.Describe().ReplaceLineEndings(" ");
}
