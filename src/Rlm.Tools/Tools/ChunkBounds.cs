namespace Rlm.Tools.Tools;

/// <summary>One chunk of <c>chunk</c>: characters <c>[Start, End)</c> of the view.</summary>
/// <param name="Index">The chunk's 0-based index.</param>
/// <param name="Start">First character, 0-based.</param>
/// <param name="End">Character after the last one (exclusive).</param>
internal sealed record ChunkBounds(int Index, int Start, int End);
