namespace Rlm.Tools.Context;

/// <summary>What reading one file or stream gave: its text and how it was decoded; or no text, for binary content or a compressed format that is not read.</summary>
/// <param name="Text">The text, or <see langword="null"/> when not read.</param>
/// <param name="Decoding">How the bytes were decoded (for content not read: the compression it was found under, if any).</param>
/// <param name="CompressedFormat">The compressed format that kept it from being read (<c>zstd</c>, <c>xz</c>, …), or <see langword="null"/>; no text and no format means binary.</param>
internal sealed record LoadedText(string? Text, RlmTextDecoding Decoding, string? CompressedFormat)
{
    /// <summary>Gets a value indicating whether the content was binary (a NUL byte in its first 8 KB, decompressed if it was gzip).</summary>
    public bool IsBinary => Text is null && CompressedFormat is null;
}
