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

    /// <summary>
    /// Gets the files whose bytes were not plain UTF-8 read cleanly (a guessed or UTF-16/32 encoding, replaced bytes,
    /// gzip), or <see langword="null"/> when there were none.
    /// </summary>
    public IReadOnlyList<DecodedJson>? Decoded { get; init; }

    /// <summary>The input object of a corpus: its size, for a directory what its walk left out, and the files worth a decoding note.</summary>
    public static InputJson From(string source, RlmCorpus corpus, bool fromDirectory, IReadOnlyList<(string Name, RlmTextDecoding Decoding)>? decoded = null) => new(source, corpus.Length, corpus.LineCount, corpus.Documents.Count)
    {
        Decoded = decoded is { Count: > 0 } ? [.. decoded.Select(d => DecodedJson.From(d.Name, d.Decoding))] : null,
        Skipped = fromDirectory ? [.. corpus.Skipped.Select(s => new SkippedJson(s.Path, Context.SkipLog.Code(s.Reason), s.Detail))] : null,
        SkippedCounts = fromDirectory ? corpus.SkippedCounts.ToDictionary(c => Context.SkipLog.Code(c.Key), c => c.Value) : null,
    };
}
