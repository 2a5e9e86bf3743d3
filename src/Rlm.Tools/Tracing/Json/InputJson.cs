namespace Rlm.Tools.Json;

/// <summary>The <c>input</c> object of <c>rlm --json</c>: what the context was read from and its size.</summary>
/// <param name="Source">Where the context came from (a path, <c>stdin</c>, a folder and glob).</param>
/// <param name="Chars">Characters of context.</param>
/// <param name="Lines">Lines of context.</param>
/// <param name="Documents">Documents (0 for one unnamed context).</param>
internal sealed record InputJson(string Source, long Chars, long Lines, int Documents)
{
    /// <summary>Gets the paths <c>--dir</c> left out (at most 50 per reason), or <see langword="null"/> for other inputs.</summary>
    public IReadOnlyList<SkippedJson>? Skipped { get; init; }

    /// <summary>Gets how many paths <c>--dir</c> left out per reason code (all of them), or <see langword="null"/> for other inputs.</summary>
    public IReadOnlyDictionary<string, int>? SkippedCounts { get; init; }

    /// <summary>The input object of a corpus: its size, and for a directory what its walk left out.</summary>
    public static InputJson From(string source, RlmCorpus corpus, bool fromDirectory) => new(source, corpus.Length, corpus.LineCount, corpus.Documents.Count)
    {
        Skipped = fromDirectory ? [.. corpus.Skipped.Select(s => new SkippedJson(s.Path, Context.SkipLog.Code(s.Reason), s.Detail))] : null,
        SkippedCounts = fromDirectory ? corpus.SkippedCounts.ToDictionary(c => Context.SkipLog.Code(c.Key), c => c.Value) : null,
    };
}
