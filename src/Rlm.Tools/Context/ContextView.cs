namespace Rlm.Tools.Context;

/// <summary>
/// A half-open character range <c>[Start, End)</c> of a run's <see cref="ContextText"/>: what one session sees.
/// All positions a view takes and gives are relative to the view: character 0 and line 0 are its first.
/// A view never copies the text; <see cref="Slice"/> makes another view of the same string.
/// </summary>
internal sealed class ContextView
{
    public ContextView(ContextText source)
        : this(source, 0, source.Text.Length)
    {
    }

    private ContextView(ContextText source, int start, int end)
    {
        Source = source;
        Start = start;
        End = end;
        FirstLine = source.LineOfOffset(start);
        int lastLine = end > start ? source.LineOfOffset(end - 1) : FirstLine;
        LineCount = lastLine - FirstLine + 1;
    }

    /// <summary>Gets the run's whole text.</summary>
    public ContextText Source { get; }

    /// <summary>Gets the absolute offset of the view's first character.</summary>
    public int Start { get; }

    /// <summary>Gets the absolute offset just past the view's last character.</summary>
    public int End { get; }

    /// <summary>Gets the view's length in characters.</summary>
    public int Length => End - Start;

    /// <summary>Gets the absolute 0-based line of the view's first character.</summary>
    public int FirstLine { get; }

    /// <summary>Gets the number of lines the view touches (at least 1).</summary>
    public int LineCount { get; }

    /// <summary>Gets the view's characters.</summary>
    public ReadOnlySpan<char> Span => Source.Text.AsSpan(Start, Length);

    /// <summary>Gets whether the view is the whole context.</summary>
    public bool IsWhole => Start == 0 && End == Source.Text.Length;

    /// <summary>Makes a view of the relative range <c>[start, end)</c>; the range must lie inside this view.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie inside the view.</exception>
    public ContextView Slice(int start, int end)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(end, Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, end);
        return new ContextView(Source, Start + start, Start + end);
    }

    /// <summary>Gets the view's text as a string: the run's own string for a whole view, otherwise one copy of the range.</summary>
    public string GetText() => IsWhole ? Source.Text : Source.Text.Substring(Start, Length);

    /// <summary>Gets the relative line that holds the relative offset.</summary>
    public int LineOfOffset(int offset) => Source.LineOfOffset(Start + offset) - FirstLine;

    /// <summary>Gets a relative line's relative character range, without its line break, clipped to the view.</summary>
    public (int Start, int End) LineBounds(int line)
    {
        int absolute = FirstLine + line;
        int start = Math.Max(Source.LineStart(absolute), Start);
        int end = Math.Min(Source.LineEnd(absolute), End);
        return (start - Start, Math.Max(start, end) - Start);
    }

    /// <summary>Gets a relative line's text (no line break).</summary>
    public ReadOnlySpan<char> Line(int line)
    {
        var (start, end) = LineBounds(line);
        return Span[start..end];
    }

    /// <summary>
    /// Gets the document and 1-based line inside it of a relative offset, or <see langword="null"/> when the context has
    /// no documents or the offset is on a document's header line.
    /// </summary>
    public DocumentLocation? Locate(int offset)
    {
        int absolute = Start + offset;
        if (Source.DocumentAt(absolute) is not { } doc || absolute < doc.TextStart)
        {
            return null;
        }

        return new DocumentLocation(doc.Name, Source.LineOfOffset(absolute) - doc.FirstTextLine + 1);
    }

    /// <summary>Gets the names of the documents the view touches, in order.</summary>
    public IReadOnlyList<string> DocumentNames()
    {
        var names = new List<string>();
        foreach (var doc in Source.Documents)
        {
            if (doc.HeaderStart < End && doc.End >= Start && !(doc.End == Start && doc.End > doc.HeaderStart && Start > 0))
            {
                names.Add(doc.Name);
            }
        }

        return names;
    }
}

/// <summary>A document name and a 1-based line number inside that document.</summary>
internal readonly record struct DocumentLocation(string Document, int Line)
{
    public override string ToString() => $"{Document}:{Line}";
}
