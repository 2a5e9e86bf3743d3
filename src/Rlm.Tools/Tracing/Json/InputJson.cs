namespace Rlm.Tools.Json;

/// <summary>The <c>input</c> object of <c>rlm --json</c>: what the context was read from and its size.</summary>
/// <param name="Source">Where the context came from (a path, <c>stdin</c>, a folder and glob).</param>
/// <param name="Chars">Characters of context.</param>
/// <param name="Lines">Lines of context.</param>
/// <param name="Documents">Documents (0 for one unnamed context).</param>
internal sealed record InputJson(string Source, long Chars, long Lines, int Documents);
