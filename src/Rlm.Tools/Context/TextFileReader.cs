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
    /// <summary>The bytes sniffed for a NUL byte, the sign of binary content.</summary>
    public const int BinarySniffBytes = 8192;

    /// <summary>Opens a file to read; a FIFO blocks here until a writer opens it (as <c>cat</c> does).</summary>
    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.None);

    /// <summary>
    /// Reads a stream to its end as text (UTF-8 unless a byte order mark says UTF-16 or UTF-32), or returns
    /// <see langword="null"/> when it is binary (a NUL byte in its first 8,192 bytes, unless a UTF-16/32 byte order mark
    /// says NULs belong to the text). Throws an <see cref="ArgumentException"/> as soon as the text passes
    /// <paramref name="maxLength"/> characters, so that an oversized input never has to fit in memory.
    /// </summary>
    /// <remarks>
    /// <see cref="RlmTextLoader"/> decodes into one string of exact length (one copy of the text at the peak). A regular
    /// file is sniffed, then read from its start in two passes (count, decode); a pipe, FIFO or character device is read
    /// forward only: its sniffed head is handed back in front of the rest.
    /// </remarks>
    public static string? ReadText(Stream stream, long maxLength, CancellationToken cancellationToken)
    {
        long start = stream.CanSeek ? stream.Position : 0;
        var head = new byte[BinarySniffBytes];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var span = head.AsSpan(0, read);
        bool wideBom = span.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || span.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || span.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]);
        if (!wideBom && span.Contains((byte)0))
        {
            return null;
        }

        Stream source = stream;
        if (stream.CanSeek)
        {
            stream.Position = start;
        }
        else
        {
            source = new HeadThenRest(head.AsMemory(0, read), stream);
        }

        // Synchronously: callers run the loading on a worker thread, and a blocked read on a pipe ignores the token anyway.
        return RlmTextLoader.ReadStreamAsync(source, (int)Math.Clamp(maxLength, 0, RlmCorpus.MaxLength), cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>A forward-only stream: bytes already read from a pipe, then the rest of the pipe.</summary>
    private sealed class HeadThenRest(ReadOnlyMemory<byte> head, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _head = head;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_head.IsEmpty)
            {
                return rest.Read(buffer);
            }

            int n = Math.Min(buffer.Length, _head.Length);
            _head.Span[..n].CopyTo(buffer);
            _head = _head[n..];
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_head.IsEmpty)
            {
                return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            return Read(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
