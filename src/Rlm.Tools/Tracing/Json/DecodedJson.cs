namespace Rlm.Tools.Json;

/// <summary>How one input file's bytes became text, when there is something to say (see <see cref="RlmTextDecoding"/>).</summary>
/// <param name="Name">The file (a path as given, a path relative to <c>--dir</c>, or <c>standard input</c>).</param>
/// <param name="Encoding">The encoding's web name (<c>utf-8</c>, <c>utf-16le</c>, <c>windows-1252</c>, …).</param>
/// <param name="Guessed">Whether the encoding was guessed from the bytes (no byte order mark; not valid UTF-8, or UTF-16 told by its zero bytes).</param>
/// <param name="ReplacedBytes">Bytes that could not be decoded and became U+FFFD.</param>
/// <param name="Compression">The compression the file was read through (<c>gzip</c>), or absent.</param>
internal sealed record DecodedJson(string Name, string Encoding, bool Guessed, long ReplacedBytes, string? Compression)
{
    public static DecodedJson From(string name, RlmTextDecoding decoding) =>
        new(name, decoding.Encoding, decoding.IsGuessed, decoding.ReplacedBytes, decoding.Compression);
}
