namespace Rlm.Tools;

/// <summary>
/// One citation of a final answer, as the host checked it against the context: <c>document:line</c> or <c>(line N)</c>,
/// optionally followed by a quoted span (<c>src/a.cs:12 "return x;"</c>).
/// </summary>
/// <param name="Document">The cited document's name; <see langword="null"/> for a <c>(line N)</c> citation, which counts lines of the whole context.</param>
/// <param name="Line">The cited 1-based line (in <paramref name="Document"/>, else in the context); <see langword="null"/> when the citation names a document and a quote but no line.</param>
/// <param name="Quote">The quoted span that follows the citation, without its quote marks; <see langword="null"/> when none.</param>
/// <param name="Offset">
/// The 0-based character offset, in the document (in the context for a <c>(line N)</c> citation), where the quote was found
/// (or where the cited line starts, when there is no quote); <see langword="null"/> when the citation is not verified.
/// </param>
/// <param name="Verified">Whether the cited line exists and holds the quote (exactly or after collapsing whitespace), or, without a line, the document holds it.</param>
/// <param name="Reason">Why the citation is not verified (for example <c>a.cs has 40 lines; line 90 does not exist</c>); <see langword="null"/> when it is.</param>
public sealed record RlmCitation(string? Document, int? Line, string? Quote, int? Offset, bool Verified, string? Reason)
{
    /// <summary>Gets the citation as written in the answer (<c>src/a.cs:12</c>, <c>(line 7)</c>), without the quote.</summary>
    public string Text { get; init; } = string.Empty;

    /// <summary>Gets the 0-based character offset of <see cref="Text"/> in the answer.</summary>
    public int AnswerOffset { get; init; }

    /// <summary>Gets the context text cited (the line or lines), for a sensitive trajectory and its viewer; <see langword="null"/> when the cited line does not exist.</summary>
    internal Context.CitedLines? Source { get; init; }
}
