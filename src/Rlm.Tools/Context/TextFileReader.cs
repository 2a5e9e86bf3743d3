namespace Rlm.Tools.Context;

/// <summary>
/// Reads one file or stream as text for a corpus, refusing binary content: the one reader behind
/// <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/> and the <c>rlm</c> command's <c>--file</c>, <c>--dir</c> and <c>--stdin</c>.
/// </summary>
/// <remarks>
/// Files are read as streams, never by seeking back: <c>/dev/stdin</c>, <c>&lt;(cmd)</c> and named pipes (FIFOs) work
/// like regular files. Opening a FIFO waits for a writer, as <c>cat</c> does.
/// </remarks>
internal static class TextFileReader
{
    /// <summary>The bytes sniffed for a NUL byte, the sign of binary content (and for compression and the encoding).</summary>
    public const int BinarySniffBytes = 8192;

    /// <summary>Opens a file to read; a FIFO blocks here until a writer opens it (as <c>cat</c> does).</summary>
    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.None);

    /// <summary>
    /// Reads a stream to its end as text, choosing the encoding as <see cref="RlmTextDecoding"/> says and decompressing
    /// gzip; or says why it is not text: binary (a NUL byte in its first 8,192 bytes, unless the encoding is UTF-16/32),
    /// or compressed in a format not read (zstd, bzip2, xz, zip, 7z, lz4). Throws an <see cref="ArgumentException"/> as
    /// soon as the (decompressed) text passes <paramref name="maxLength"/> characters, so that an oversized input never
    /// has to fit in memory.
    /// </summary>
    /// <remarks>
    /// <see cref="RlmTextLoader"/> decodes into one string of exact length (one copy of the text at the peak). A regular
    /// file is sniffed, then read from its start in two passes (count, decode); a pipe, FIFO or character device is read
    /// forward only: its sniffed head is handed back in front of the rest.
    /// </remarks>
    /// <exception cref="InvalidDataException">Corrupt gzip data.</exception>
    public static LoadedText ReadText(Stream stream, long maxLength, CancellationToken cancellationToken) =>
        RlmTextLoader.Load(stream, maxLength, refuseBinary: true, cancellationToken);

    /// <summary>Why a read gave no text, for people: <c>binary (a NUL byte in the first 8 KB)</c>, <c>zstd-compressed: not read (decompress it first: zstd -d)</c>.</summary>
    public static string NotTextDetail(LoadedText loaded) => loaded.CompressedFormat is { } format
        ? $"{format}-compressed{(loaded.Decoding.Compression is null ? "" : $" inside {loaded.Decoding.Compression}")}: not read (only gzip is; decompress it first: {CompressedFormat.Hint(format)})"
        : $"binary (a NUL byte in the first 8 KB{(loaded.Decoding.Compression is null ? "" : $" of the {loaded.Decoding.Compression}-decompressed data")})";
}
