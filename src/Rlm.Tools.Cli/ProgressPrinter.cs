using System.Globalization;

namespace Rlm.Tools.Cli;

/// <summary>
/// Writes live progress events to stderr, one line each. The engine reports synchronously from many threads (parallel
/// sub-calls), so each line is written under a lock; <see cref="Progress{T}"/> is not used because it posts to a
/// synchronization context and would reorder lines.
/// </summary>
internal sealed class ProgressPrinter(TextWriter writer) : IProgress<RlmProgressEvent>
{
    private readonly Lock _lock = new();

    /// <summary>Gets or sets whether events are printed (the run ends by turning it off, so late events cannot interleave with the trace).</summary>
    public bool Enabled { get; set; } = true;

    /// <inheritdoc />
    public void Report(RlmProgressEvent value)
    {
        string line = Format(value);
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

    /// <summary>Formats an event: elapsed time, indentation by depth, and a marker by kind.</summary>
    internal static string Format(RlmProgressEvent e)
    {
        string time = string.Create(CultureInfo.InvariantCulture, $"[{e.Elapsed.TotalSeconds,7:F2}s] ");
        string indent = new(' ', Math.Max(0, e.Depth) * 4);
        string parentIndent = new(' ', Math.Max(0, e.Depth - 1) * 4);
        string message = e.Message.ReplaceLineEndings(" ");
        return e.Kind switch
        {
            RlmProgressKind.Iteration => $"{time}{indent}{message}",
            RlmProgressKind.ToolCall => $"{time}{indent}  {message}",
            RlmProgressKind.ParallelGroup => $"{time}{indent}  {message}",
            RlmProgressKind.SubCallStarted => $"{time}{parentIndent}  -> {message}",
            RlmProgressKind.SubCallCompleted => $"{time}{parentIndent}  <- {message}",
            RlmProgressKind.SessionCompleted => $"{time}{indent}{message}",
            RlmProgressKind.ModelRetry => $"{time}{indent}  ! {message}",
            _ => $"{time}{indent}{message}",
        };
    }
}
