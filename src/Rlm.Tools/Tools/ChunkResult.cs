namespace Rlm.Tools.Tools;

/// <summary>The result of <c>chunk</c>: consecutive character ranges covering the view.</summary>
/// <param name="ChunkSize">Most characters per chunk, as asked; 0 when only <paramref name="MaxTokens"/> was given.</param>
/// <param name="Overlap">Characters each chunk shares with the previous one.</param>
/// <param name="TotalCharacters">Characters in the view.</param>
/// <param name="Chunks">The ranges, in order.</param>
/// <param name="MaxTokens">Most tokens per chunk (<c>o200k_base</c>), as asked, or <see langword="null"/>.</param>
internal sealed record ChunkResult(long ChunkSize, long Overlap, int TotalCharacters, IReadOnlyList<ChunkBounds> Chunks, long? MaxTokens = null) : ToolOutput;
