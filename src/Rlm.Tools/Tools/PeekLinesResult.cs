namespace Rlm.Tools.Tools;

/// <summary>The result of <c>peek_lines</c>: lines <c>[Start, End)</c> of the view, each with its number.</summary>
/// <param name="Start">First line asked for, 0-based, after clamping.</param>
/// <param name="End">Line after the last one asked for (exclusive), after clamping.</param>
/// <param name="TotalLines">Lines in the view.</param>
/// <param name="TotalCharacters">Characters in the view (not shown to the model; for in-process readers).</param>
/// <param name="StartLocation">The document and 1-based line of <paramref name="Start"/> (<c>document:line</c>), or <see langword="null"/> for a single text or an empty range.</param>
/// <param name="Lines">The lines read, in order; fewer than asked for when <paramref name="StoppedAfterLine"/> is set.</param>
/// <param name="StoppedAfterLine">The last line read when reading stopped early (far past the output limit), or <see langword="null"/>.</param>
/// <param name="Note">What clamping moved, or <see langword="null"/>.</param>
internal sealed record PeekLinesResult(int Start, int End, int TotalLines, int TotalCharacters, string? StartLocation, IReadOnlyList<NumberedLine> Lines, int? StoppedAfterLine, string? Note) : ToolOutput;
