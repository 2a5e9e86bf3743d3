using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace Rlm.Tools;

/// <summary>
/// Reads text (UTF-8 unless a byte order mark says UTF-16 or UTF-32, or the bytes show UTF-16 without a mark or a legacy
/// encoding: see <see cref="RlmTextDecoding"/>) into one string of exactly its length, holding nothing but that string at
/// the end: about 2 bytes per character, the least one .NET string can take. Bytes the encoding cannot decode become
/// U+FFFD; a leading byte order mark is dropped; gzip data is decompressed.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="File.ReadAllText(string)"/> and <see cref="StreamReader.ReadToEnd"/> build the text in a
/// <see cref="StringBuilder"/> and then copy it into the string: two copies (4 bytes per character) at the peak, and with
/// <c>File.ReadAllBytes</c> + <c>GetString</c> the bytes as well. This loader is hand-written because no library offers a
/// single-copy decode into a string of unknown length.
/// </para>
/// <para>
/// A file (or any seekable stream) is read twice through one 1 MB buffer: the first pass counts the characters, the
/// second decodes straight into the string (<see cref="string.Create{TState}(int, TState, System.Buffers.SpanAction{char, TState})"/>).
/// A stream that cannot seek (a pipe, standard input) is decoded once into native 8 MB chunks (huge pages), which are copied into
/// the string and freed one by one, so the pages of the string replace those of the chunks and the peak stays at one
/// copy plus one chunk.
/// </para>
/// </remarks>
public static partial class RlmTextLoader
{
    /// <summary>Bytes read per call to the underlying stream.</summary>
    private const int BufferBytes = 1 << 20;

    /// <summary>Characters per native chunk when the length is not known in advance (8 MB, 2 MB-aligned: huge pages where Linux gives them).</summary>
    private const int ChunkChars = 1 << 22;

    /// <summary>
    /// Reads a whole file as text (see <see cref="RlmTextDecoding"/> for how the encoding is chosen; a gzip file is
    /// decompressed).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Checked between reads of 1 MB.</param>
    /// <returns>The text, without a byte order mark.</returns>
    /// <exception cref="ArgumentException">The text is longer than <see cref="RlmCorpus.MaxLength"/> characters (the message gives the limit); nothing large is allocated before this is known.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file could not be read, changed while it was read, or is compressed in a format other than gzip (zstd, bzip2, xz, zip, 7z, lz4).</exception>
    /// <exception cref="InvalidDataException">The file is gzip data that is corrupt.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static string ReadFile(string path, CancellationToken cancellationToken = default) => ReadDocument(path, null, cancellationToken).Text;

    /// <summary>
    /// Reads a whole file as a document, with how its bytes were decoded in <see cref="RlmDocument.Decoding"/> (the encoding,
    /// whether it was guessed, the bytes replaced, gzip). Otherwise as <see cref="ReadFile"/>.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="name">The document's name; <see langword="null"/> names it by <paramref name="path"/> as given.</param>
    /// <param name="cancellationToken">Checked between reads of 1 MB.</param>
    /// <returns>The document.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, <paramref name="name"/> is not a valid document name, or the text is longer than <see cref="RlmCorpus.MaxLength"/> characters.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file could not be read, changed while it was read, or is compressed in a format other than gzip.</exception>
    /// <exception cref="InvalidDataException">The file is gzip data that is corrupt.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static RlmDocument ReadDocument(string path, string? name = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.SequentialScan);
        var loaded = Load(stream, RlmCorpus.MaxLength, refuseBinary: false, cancellationToken);
        return new RlmDocument(name ?? Context.DirectoryLoader.DocumentName(path), RequireText(loaded, path), loaded.Decoding);
    }

    /// <summary>
    /// Reads a stream to its end as text. A seekable stream is read from its current position.
    /// </summary>
    /// <param name="stream">The stream; not disposed.</param>
    /// <param name="cancellationToken">Checked between reads (a read that blocks, on a pipe or a terminal, is not interrupted).</param>
    /// <returns>The text, without a byte order mark.</returns>
    /// <exception cref="ArgumentException">The text is longer than <see cref="RlmCorpus.MaxLength"/> characters (the message gives the limit).</exception>
    /// <exception cref="IOException">The stream could not be read, or is compressed in a format other than gzip.</exception>
    /// <exception cref="InvalidDataException">The stream is gzip data that is corrupt.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static Task<string> ReadStreamAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ReadStreamAsync(stream, RlmCorpus.MaxLength, cancellationToken);

    /// <summary>
    /// Reads a stream to its end as text, refusing more than <paramref name="maxLength"/> characters (for example what is
    /// left of a context when several documents share it). A seekable stream is read from its current position. The
    /// encoding is chosen as <see cref="RlmTextDecoding"/> says; gzip data is decompressed, and the limit applies to the
    /// decompressed text.
    /// </summary>
    /// <param name="stream">The stream; not disposed.</param>
    /// <param name="maxLength">The most characters accepted, from 0 to <see cref="RlmCorpus.MaxLength"/>.</param>
    /// <param name="cancellationToken">Checked between reads (a read that blocks, on a pipe or a terminal, is not interrupted).</param>
    /// <returns>The text, without a byte order mark.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is negative or above <see cref="RlmCorpus.MaxLength"/>.</exception>
    /// <exception cref="ArgumentException">The text is longer than <paramref name="maxLength"/> characters (found before the whole text is held in memory).</exception>
    /// <exception cref="IOException">The stream could not be read, or is compressed in a format other than gzip.</exception>
    /// <exception cref="InvalidDataException">The stream is gzip data that is corrupt.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static async Task<string> ReadStreamAsync(Stream stream, int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, RlmCorpus.MaxLength);
        return RequireText(await LoadAsync(stream, maxLength, refuseBinary: false, compression: null, cancellationToken).ConfigureAwait(false), "the stream");
    }

    private static string RequireText(Context.LoadedText loaded, string what) => loaded.Text
        ?? throw new IOException($"{what} is {loaded.CompressedFormat}-compressed; only gzip is read: decompress it first ({Context.CompressedFormat.Hint(loaded.CompressedFormat!)}).");

    /// <summary>Reads a stream as <see cref="LoadAsync"/> does, synchronously (the loaders run on a worker thread; a blocked pipe read ignores the token anyway).</summary>
    internal static Context.LoadedText Load(Stream stream, long maxLength, bool refuseBinary, CancellationToken cancellationToken) =>
        LoadAsync(stream, (int)Math.Clamp(maxLength, 0, RlmCorpus.MaxLength), refuseBinary, compression: null, cancellationToken).GetAwaiter().GetResult();

    /// <summary>
    /// Reads a stream to its end: sniffs its first 8,192 bytes (compression, byte order mark, UTF-16 without one, and with
    /// <paramref name="refuseBinary"/> a NUL byte), then decodes it into one string, choosing the encoding as it goes
    /// (<see cref="Context.TextDecodingPlan"/>). A regular file is read in two passes (count, decode); a pipe forward only, its
    /// sniffed head handed back in front of the rest; gzip data once more through <see cref="GZipStream"/>.
    /// </summary>
    private static async Task<Context.LoadedText> LoadAsync(Stream stream, int maxLength, bool refuseBinary, string? compression, CancellationToken cancellationToken)
    {
        long start = stream.CanSeek ? stream.Position : 0;
        var head = new byte[Context.TextFileReader.BinarySniffBytes];
        int read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var sniffed = head.AsMemory(0, read);
        Stream source = stream;
        if (stream.CanSeek)
        {
            stream.Position = start;
        }
        else if (read < head.Length)
        {
            // All of it is in the head. Never read again after the end: at a terminal, Ctrl+D ends one read, not the input.
            source = new MemoryStream(head, 0, read, writable: false);
            start = 0;
        }
        else
        {
            source = new Context.HeadThenRestStream(sniffed, stream);
        }

        string? format = Context.CompressedFormat.Detect(sniffed.Span);
        if (format == "gzip" && compression is null)
        {
            // Decompressed forward only: the character limit then bounds the memory a small file of huge output could take.
            using var gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
            return await LoadAsync(gzip, maxLength, refuseBinary, "gzip", cancellationToken).ConfigureAwait(false);
        }

        if (format is not null)
        {
            return new Context.LoadedText(null, RlmTextDecoding.Utf8 with { Compression = compression }, format);
        }

        var (plan, bom) = Context.TextDecodingPlan.FromHead(sniffed.Span);
        if (refuseBinary && plan.Encoding is not (UnicodeEncoding or UTF32Encoding) && sniffed.Span.Contains((byte)0))
        {
            return new Context.LoadedText(null, plan.ToDecoding(compression), null);
        }

        string text = source.CanSeek
            ? ReadSeekable(source, start + bom, plan, maxLength, cancellationToken)
            : await ReadForwardAsync(source, bom, plan, maxLength, cancellationToken).ConfigureAwait(false);
        return new Context.LoadedText(text, plan.ToDecoding(compression), null);
    }

    /// <summary>One pass over a stream that cannot seek, into native chunks copied into the string at the end.</summary>
    private static async Task<string> ReadForwardAsync(Stream stream, int bom, Context.TextDecodingPlan plan, int maxLength, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferBytes];
        using var chunks = new NativeCharChunks(maxLength);
        var decoder = plan.CreateDecoder();
        int skip = bom;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            var bytes = buffer.AsSpan(0, read);
            int skipped = Math.Min(skip, bytes.Length);
            bytes = bytes[skipped..];
            skip -= skipped;
            if (plan.Consider(bytes, final: read == 0))
            {
                decoder = plan.CreateDecoder();
            }

            chunks.Decode(decoder, bytes, flush: read == 0);
            if (read == 0)
            {
                return chunks.ToStringAndFree();
            }
        }
    }

    /// <summary>Two passes over a seekable stream from <paramref name="textStart"/>: count (deciding the encoding), then decode into the string. Only the 1 MB buffer besides the string.</summary>
    private static string ReadSeekable(Stream stream, long textStart, Context.TextDecodingPlan plan, int maxLength, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferBytes];

        // Pass 1: count the characters, decoding into a small scratch buffer that stays in the cache.
        stream.Position = textStart;
        var decoder = plan.CreateDecoder();
        var scratch = new char[64 * 1024];
        long length = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int read = stream.Read(buffer);
            var bytes = buffer.AsSpan(0, read);
            bool flush = read == 0;
            if (plan.Consider(bytes, flush))
            {
                decoder = plan.CreateDecoder();
            }

            bool completed;
            do
            {
                decoder.Convert(bytes, scratch, flush, out int used, out int chars, out completed);
                bytes = bytes[used..];
                length += chars;
            }
            while (bytes.Length > 0 || (flush && !completed));

            if (length > maxLength)
            {
                throw TooLarge(length, maxLength);
            }

            if (flush)
            {
                break;
            }
        }

        // Pass 2: decode into the string itself, with the encoding pass 1 settled on (what came before it was ASCII).
        stream.Position = textStart;
        decoder = plan.CreateUncountedDecoder();
        var state = new SeekableState(stream, buffer, decoder, cancellationToken);
        string text = string.Create((int)length, state, static (destination, s) =>
        {
            HugePages.Advise(destination);
            int written = 0;
            while (true)
            {
                s.CancellationToken.ThrowIfCancellationRequested();
                int read = s.Stream.Read(s.Buffer);
                var bytes = s.Buffer.AsSpan(0, read);
                bool flush = read == 0;
                bool completed;
                do
                {
                    // Past the counted length, decode into scratch: anything more means the file grew or changed.
                    bool past = written == destination.Length;
                    int bytesUsed, chars;
                    try
                    {
                        s.Decoder.Convert(bytes, past ? s.Scratch : destination[written..], flush, out bytesUsed, out chars, out completed);
                    }
                    catch (ArgumentException)
                    {
                        throw Changed(); // no room for a surrogate pair at the end: the text is longer than counted
                    }

                    if (past && chars > 0)
                    {
                        throw Changed();
                    }

                    bytes = bytes[bytesUsed..];
                    written += chars;
                }
                while (bytes.Length > 0 || (flush && !completed));

                if (flush)
                {
                    if (written != destination.Length)
                    {
                        throw Changed();
                    }

                    return;
                }
            }
        });

        return text;
    }

    private static IOException Changed() => new("The file changed while it was read: its text has a different length from one pass to the next.");

    internal static ArgumentException TooLarge(long atLeast, int maxLength = RlmCorpus.MaxLength) => maxLength == RlmCorpus.MaxLength
        ? new($"The text is too large for one context: {atLeast:N0} characters or more; one context holds at most {RlmCorpus.MaxLength:N0} characters (the longest .NET string).")
        : new($"The text is too large: {atLeast:N0} characters or more; at most {maxLength:N0} are accepted here.");

    /// <summary>The encoding a byte order mark names (UTF-8 without one), and the mark's length in bytes.</summary>
    internal static (Encoding Encoding, int BomLength) DetectEncoding(ReadOnlySpan<byte> head)
    {
        // Like StreamReader's detection; the encodings replace invalid bytes with U+FFFD and emit no mark themselves.
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return (s_utf8, 3);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
        {
            return (new UTF32Encoding(bigEndian: false, byteOrderMark: false), 4);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return (new UnicodeEncoding(bigEndian: false, byteOrderMark: false), 2);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return (new UnicodeEncoding(bigEndian: true, byteOrderMark: false), 2);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]))
        {
            return (new UTF32Encoding(bigEndian: true, byteOrderMark: false), 4);
        }

        return (s_utf8, 0);
    }

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private sealed record SeekableState(Stream Stream, byte[] Buffer, Decoder Decoder, CancellationToken CancellationToken)
    {
        public char[] Scratch { get; } = new char[4096];
    }
}
