namespace Rlm.Tools;

/// <summary>A file or folder that <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/> left out.</summary>
/// <param name="Path">The path relative to the directory, with <c>/</c>; a folder ends with <c>/</c> (its contents were not visited).</param>
/// <param name="Reason">Why, as a stable code.</param>
/// <param name="Detail">A short explanation for people (for example <c>named pipe (FIFO): not opened</c>).</param>
public sealed record RlmSkippedPath(string Path, RlmSkipReason Reason, string Detail);
