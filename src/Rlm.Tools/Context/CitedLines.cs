namespace Rlm.Tools.Context;

/// <summary>
/// The context text a citation points to, kept so a reader can see it without the input (the trajectory viewer): the
/// cited line or lines, or for a document-and-quote citation the line where the quote was found.
/// </summary>
/// <param name="Document">The document, as the citation names it; <see langword="null"/> for <c>(line N)</c>, which counts lines of the whole context.</param>
/// <param name="Line">The first line's 1-based number, in <paramref name="Document"/> (else in the context).</param>
/// <param name="Text">The lines, joined with <c>\n</c>, at most <see cref="MaxLines"/> lines and <see cref="MaxChars"/> characters.</param>
/// <param name="Truncated">Whether <paramref name="Text"/> stops short of the cited span.</param>
internal sealed record CitedLines(string? Document, int Line, string Text, bool Truncated)
{
    /// <summary>The most lines kept for one citation (a range can span a whole file).</summary>
    public const int MaxLines = 20;

    /// <summary>The most characters kept for one citation.</summary>
    public const int MaxChars = 2_000;

    /// <summary>The 0-based context lines <paramref name="first"/> to <paramref name="last"/>, capped.</summary>
    public static CitedLines From(ContextText context, string? document, int line, int first, int last)
    {
        int end = Math.Min(last, first + MaxLines - 1);
        int start = context.LineStart(first);
        int stop = context.LineEnd(end);
        bool truncated = end < last;
        if (stop - start > MaxChars)
        {
            stop = start + MaxChars;
            stop -= char.IsHighSurrogate(context.Text[stop - 1]) ? 1 : 0; // never half a character
            truncated = true;
        }

        string text = context.Text[start..stop].Replace("\r\n", "\n", StringComparison.Ordinal);
        return new CitedLines(document, line, text, truncated);
    }
}
