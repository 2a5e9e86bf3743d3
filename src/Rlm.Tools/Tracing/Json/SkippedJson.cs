namespace Rlm.Tools.Json;

/// <summary>One path <c>--dir</c> left out.</summary>
/// <param name="Path">The path relative to the directory, with <c>/</c>; a folder ends with <c>/</c>.</param>
/// <param name="Reason">The stable reason code (<c>symlink</c>, <c>hidden</c>, <c>ignored</c>, <c>special_file</c>, <c>binary</c>, <c>empty</c>, <c>unreadable</c>, <c>cycle</c>, <c>too_large</c>, <c>compressed</c>).</param>
/// <param name="Detail">A short explanation for people.</param>
internal sealed record SkippedJson(string Path, string Reason, string Detail);
