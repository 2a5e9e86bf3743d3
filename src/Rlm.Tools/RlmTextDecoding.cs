namespace Rlm.Tools;

/// <summary>
/// How a file's bytes became text: the encoding used, whether it was guessed, how many bytes could not be decoded, and
/// the compression it was read through. The loaders (<see cref="RlmTextLoader.ReadDocument"/>,
/// <see cref="RlmCorpus.FromFile"/>, <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/>, <c>rlm</c>) set it
/// on <see cref="RlmDocument.Decoding"/>.
/// </summary>
/// <remarks>
/// Text is UTF-8 unless a byte order mark names UTF-16 or UTF-32. Without a mark, UTF-16 (little or big endian) is
/// recognised by its high bytes (zero for ASCII, one value per script); and a file that is not valid UTF-8, and whose
/// text before the first invalid byte is plain ASCII, is decoded with a legacy encoding guessed by UTF.Unknown
/// (Mozilla's charset detector; Windows-1252 when it has no confident guess), so "Zürich" written in Latin-1 reads as
/// "Zürich". Bytes the chosen encoding cannot decode become U+FFFD and are counted in <see cref="ReplacedBytes"/>.
/// </remarks>
/// <param name="Encoding">The encoding's web name, lower case: <c>utf-8</c>, <c>utf-16le</c>, <c>utf-16be</c>, <c>utf-32le</c>, <c>windows-1252</c>, <c>iso-8859-2</c>, …</param>
/// <param name="IsGuessed">Whether the encoding was guessed from the bytes (no byte order mark said it; not valid UTF-8).</param>
/// <param name="ReplacedBytes">Bytes that could not be decoded and became U+FFFD (0 when the text decoded cleanly).</param>
/// <param name="Compression">The compression the text was read through (<c>gzip</c>), or <see langword="null"/>.</param>
public sealed record RlmTextDecoding(string Encoding, bool IsGuessed, long ReplacedBytes, string? Compression)
{
    /// <summary>Gets a value indicating whether a person should hear of it: a guessed encoding, replaced bytes, or a decompression.</summary>
    public bool IsNoteworthy => IsGuessed || ReplacedBytes > 0 || Compression is not null;

    /// <summary>Plain UTF-8 read cleanly.</summary>
    internal static RlmTextDecoding Utf8 { get; } = new("utf-8", false, 0, null);

    /// <summary>One line for people: <c>windows-1252 (guessed: not valid UTF-8), gzip-compressed, 3 bytes replaced</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string> { IsGuessed ? $"{Encoding} (guessed)" : Encoding };
        if (Compression is not null)
        {
            parts.Add($"{Compression}-compressed");
        }

        if (ReplacedBytes > 0)
        {
            parts.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ReplacedBytes:N0} undecodable byte{(ReplacedBytes == 1 ? "" : "s")} replaced with U+FFFD"));
        }

        return string.Join(", ", parts);
    }
}
