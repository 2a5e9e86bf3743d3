namespace Rlm.Tools.Tools;

/// <summary>The result of <c>peek</c>: characters <c>[Start, End)</c> of the view.</summary>
/// <param name="Start">First character shown, 0-based, after clamping.</param>
/// <param name="End">Character after the last one shown (exclusive), after clamping.</param>
/// <param name="TotalCharacters">Characters in the view.</param>
/// <param name="Text">The characters of the range (not yet cut to the output limit; no copy of the context).</param>
/// <param name="Note">What clamping moved, or <see langword="null"/>.</param>
internal sealed record PeekResult(int Start, int End, int TotalCharacters, ReadOnlyMemory<char> Text, string? Note) : ToolOutput;
