namespace Rlm.Tools.Tools;

/// <summary>The result of <c>grep</c>: the matching lines shown and how many match in all.</summary>
/// <param name="Pattern">The pattern as given.</param>
/// <param name="IgnoreCase">Whether the match ignored case.</param>
/// <param name="TotalLines">Lines of the view that match (at least <c>Matches.Count</c>).</param>
/// <param name="Matches">The first matching lines, in line order, with their context lines.</param>
/// <param name="Notes">Arguments that were clamped, one note each.</param>
internal sealed record GrepResult(string Pattern, bool IgnoreCase, int TotalLines, IReadOnlyList<GrepMatch> Matches, IReadOnlyList<string> Notes) : ToolOutput;
