using System.Globalization;
using System.Text;
using Rlm.Tools.Context;

namespace Rlm.Tools.Tools;

/// <summary>
/// Renders a tool's typed result as the text the model reads: the one place that text is written, so the prompts'
/// description of it has one source. Every text is capped at the output limit (head and tail kept, the omitted middle
/// counted).
/// </summary>
internal static class ToolResultFormatter
{
    /// <summary>Renders <paramref name="output"/>, at most <paramref name="maxChars"/> characters long.</summary>
    public static string Format(ToolOutput output, int maxChars)
    {
        string text = output switch
        {
            PeekResult peek => Peek(peek, maxChars),
            PeekLinesResult lines => PeekLines(lines),
            GrepResult grep => Grep(grep),
            ChunkResult chunk => Chunk(chunk),
            SubLlmResult sub => SubLlm(sub),
            JsResult js => Js(js),
            VariableStored stored => Invariant($"Stored '{stored.Name}' ({stored.Length:N0} characters)."),
            VariableValue value => value.Value,
            FinalAnswerResult { Variable: null } => "Final answer recorded.",
            FinalAnswerResult final => Invariant($"Final answer recorded from '{final.Variable}' ({final.Answer.Length:N0} characters)."),
            ToolError error => "Error: " + error.Message,
            _ => throw new ArgumentException($"No text for {output.GetType().Name}.", nameof(output)),
        };
        return TextLimits.Cap(text, maxChars);
    }

    /// <summary>The first line of a <c>peek_lines</c> result, line break included (the tool sizes its reading by it).</summary>
    public static string PeekLinesHeader(PeekLinesResult result)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"[lines {result.Start:N0}–{result.End:N0} of {result.TotalLines:N0}");
        if (result.StartLocation is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"; line {result.Start:N0} is {result.StartLocation}");
        }

        text.Append(']');
        AppendNote(text, result.Note);
        return text.Append('\n').ToString();
    }

    /// <summary>The characters one numbered line takes in a <c>peek_lines</c> result.</summary>
    public static int PeekLinesEntryLength(NumberedLine line) =>
        line.Number.ToString(CultureInfo.InvariantCulture).Length + 2 + line.Text.Length + 1;

    private static string Peek(PeekResult result, int maxChars)
    {
        var header = new StringBuilder();
        header.Append(CultureInfo.InvariantCulture, $"[characters {result.Start:N0}–{result.End:N0} of {result.TotalCharacters:N0}]");
        AppendNote(header, result.Note);
        header.Append('\n');

        // The header is never cut: the range's text gets the room that is left.
        int room = Math.Max(100, maxChars - header.Length);
        return header + TextLimits.Cap(result.Text.Span, room);
    }

    private static string PeekLines(PeekLinesResult result)
    {
        var text = new StringBuilder(PeekLinesHeader(result));
        foreach (var line in result.Lines)
        {
            text.Append(line.Number.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(line.Text).Append('\n');
        }

        if (result.StoppedAfterLine is { } last)
        {
            text.Append(CultureInfo.InvariantCulture, $"[... stopped after line {last:N0}; ask for a smaller range ...]\n");
        }

        return text.ToString();
    }

    private static string Grep(GrepResult result)
    {
        var text = new StringBuilder();
        int total = result.TotalLines;
        text.Append(CultureInfo.InvariantCulture, $"{total:N0} matching line{(total == 1 ? "" : "s")} for /{result.Pattern}/{(result.IgnoreCase ? "i" : "")}");
        if (total > result.Matches.Count)
        {
            text.Append(CultureInfo.InvariantCulture, $"; showing the first {result.Matches.Count:N0} (raise max_results or narrow the pattern)");
        }

        foreach (var note in result.Notes)
        {
            text.Append("; note: ").Append(note);
        }

        text.Append('\n');
        foreach (var match in result.Matches)
        {
            AppendContext(text, match.Before);
            var hit = match.Hit;
            text.Append(CultureInfo.InvariantCulture, $"{hit.Line} @{hit.Offset}");
            if (hit.Document is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $" [{hit.Document}:{hit.DocumentLine}]");
            }

            text.Append(": ").Append(hit.Text).Append('\n');
            AppendContext(text, match.After);
        }

        return text.ToString();

        static void AppendContext(StringBuilder text, IReadOnlyList<NumberedLine> lines)
        {
            foreach (var line in lines)
            {
                text.Append(CultureInfo.InvariantCulture, $"{line.Number}-  {line.Text}\n");
            }
        }
    }

    private static string Chunk(ChunkResult result)
    {
        var chunks = result.Chunks;
        var text = new StringBuilder();
        string most = result.MaxTokens is not { } tokens
            ? string.Create(CultureInfo.InvariantCulture, $"{result.ChunkSize:N0} characters")
            : result.ChunkSize > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{tokens:N0} tokens and {result.ChunkSize:N0} characters")
                : string.Create(CultureInfo.InvariantCulture, $"{tokens:N0} tokens");
        text.Append(CultureInfo.InvariantCulture, $"{chunks.Count:N0} chunk{(chunks.Count == 1 ? "" : "s")} of at most {most} (overlap {result.Overlap:N0}) over {result.TotalCharacters:N0} characters:\n[");
        for (int i = 0; i < chunks.Count; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"{{\"index\":{chunks[i].Index},\"start\":{chunks[i].Start},\"end\":{chunks[i].End}}}");
        }

        return text.Append(']').ToString();
    }

    private static string SubLlm(SubLlmResult result)
    {
        string text = result.Answer ?? "Error: " + result.Error;
        return result.Note is null ? text : $"[note: {result.Note}]\n{text}";
    }

    private static string Js(JsResult result)
    {
        var text = new StringBuilder();
        if (result.Output.Length > 0)
        {
            text.Append(result.Output);
            if (result.Output[^1] != '\n')
            {
                text.Append('\n');
            }
        }

        if (result.Error is not null)
        {
            return text.Append("Error: ").Append(result.Error).ToString();
        }

        if (result.Value is not null)
        {
            text.Append("=> ").Append(result.Value);
        }

        return text.Length == 0 ? "(no output; print() to see values)" : text.ToString().TrimEnd('\n');
    }

    private static void AppendNote(StringBuilder text, string? note)
    {
        if (note is not null)
        {
            text.Append(" [note: ").Append(note).Append(']');
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
