namespace Rlm.Tools.Tools;

/// <summary>The result of <c>chunk</c>: consecutive character ranges covering the view.</summary>
/// <param name="ChunkSize">Most characters per chunk, as asked.</param>
/// <param name="Overlap">Characters each chunk shares with the previous one.</param>
/// <param name="TotalCharacters">Characters in the view.</param>
/// <param name="Chunks">The ranges, in order.</param>
internal sealed record ChunkResult(long ChunkSize, long Overlap, int TotalCharacters, IReadOnlyList<ChunkBounds> Chunks) : ToolOutput;
