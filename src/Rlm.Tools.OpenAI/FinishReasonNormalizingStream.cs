using System.Buffers;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// A read-only stream over a server-sent-event (<c>text/event-stream</c>) response body that passes every byte through
/// unchanged except the JSON payload of <c>data:</c> lines whose <c>finish_reason</c> values the OpenAI SDK would reject,
/// which <see cref="FinishReasonNormalizer"/> rewrites.
/// </summary>
/// <remarks>
/// Line-oriented: bytes are held back until their line terminator (<c>\n</c>, <c>\r</c> or <c>\r\n</c>; terminators are
/// copied as they are) has arrived, so a line split across reads is rewritten correctly, and a complete line is handed
/// on as soon as it is complete (SSE events end with a blank line, so this adds no latency to event delivery). Lines that
/// are not single-line JSON objects (comments, <c>event:</c>/<c>id:</c> fields, <c>data: [DONE]</c>, JSON split over
/// several <c>data:</c> lines, malformed JSON) pass through untouched. A final line without a terminator is processed
/// at the end of the stream. The stream remembers whether an earlier <c>data:</c> line carried tool-call deltas, so that
/// an unknown finish reason in a later chunk (which usually has an empty delta) becomes <c>tool_calls</c>.
/// </remarks>
internal sealed class FinishReasonNormalizingStream : Stream
{
    private const int ReadSize = 16 * 1024;
    private const int MinimumFreeSpace = 1024;

    private readonly Stream _inner;
    private readonly ArrayBufferWriter<byte> _output = new();
    private byte[] _input = new byte[ReadSize];
    private int _inputCount;   // Bytes held in _input: the start of an unterminated line.
    private int _scannedCount; // Leading bytes of _input known to contain no line terminator.
    private int _outputRead;   // Bytes of _output already returned to the reader.
    private bool _endOfInput;
    private bool _sawToolCalls; // An earlier data line carried tool-call deltas.
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="FinishReasonNormalizingStream"/> class.</summary>
    /// <param name="inner">The response body; disposed with this stream.</param>
    public FinishReasonNormalizingStream(Stream inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <inheritdoc />
    public override bool CanRead => !_disposed;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (TryCopyOutput(buffer, out int copied))
            {
                return copied;
            }

            if (_endOfInput)
            {
                return 0;
            }

            EnsureFreeSpace();
            OnInput(_inner.Read(_input, _inputCount, _input.Length - _inputCount));
        }
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (TryCopyOutput(buffer.Span, out int copied))
            {
                return copied;
            }

            if (_endOfInput)
            {
                return 0;
            }

            EnsureFreeSpace();
            OnInput(await _inner.ReadAsync(_input.AsMemory(_inputCount), cancellationToken).ConfigureAwait(false));
        }
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool TryCopyOutput(Span<byte> destination, out int copied)
    {
        int available = _output.WrittenCount - _outputRead;
        if (available == 0)
        {
            copied = 0;
            return false;
        }

        copied = Math.Min(available, destination.Length);
        _output.WrittenSpan.Slice(_outputRead, copied).CopyTo(destination);
        _outputRead += copied;
        if (_outputRead == _output.WrittenCount)
        {
            _output.ResetWrittenCount();
            _outputRead = 0;
        }

        return true;
    }

    private void EnsureFreeSpace()
    {
        if (_input.Length - _inputCount < MinimumFreeSpace)
        {
            Array.Resize(ref _input, Math.Max(_input.Length * 2, _inputCount + ReadSize));
        }
    }

    /// <summary>Consumes <paramref name="read"/> new bytes of <see cref="_input"/> (0 at the end of the stream).</summary>
    private void OnInput(int read)
    {
        if (read == 0)
        {
            _endOfInput = true;
            if (_inputCount > 0)
            {
                WriteLine(_input.AsSpan(0, _inputCount), []);
                _inputCount = 0;
                _scannedCount = 0;
            }

            return;
        }

        _inputCount += read;
        ReadOnlySpan<byte> data = _input.AsSpan(0, _inputCount);
        int lineStart = 0;
        int searchFrom = _scannedCount;
        while (true)
        {
            int terminator = data[searchFrom..].IndexOfAny((byte)'\n', (byte)'\r');
            if (terminator < 0)
            {
                break;
            }

            int end = searchFrom + terminator;
            WriteLine(data[lineStart..end], data.Slice(end, 1));
            lineStart = end + 1;
            searchFrom = lineStart;
        }

        int remaining = _inputCount - lineStart;
        if (lineStart > 0 && remaining > 0)
        {
            _input.AsSpan(lineStart, remaining).CopyTo(_input);
        }

        _inputCount = remaining;
        _scannedCount = remaining;
    }

    /// <summary>Writes one line (rewritten when needed) and its terminator to the output.</summary>
    private void WriteLine(ReadOnlySpan<byte> line, ReadOnlySpan<byte> terminator)
    {
        if (line.StartsWith("data:"u8))
        {
            int payloadStart = line.Length > 5 && line[5] == (byte)' ' ? 6 : 5; // SSE strips one leading space.
            ReadOnlySpan<byte> payload = line[payloadStart..];
            bool isObject = payload.TrimStart((byte)' ') is [(byte)'{', ..];
            if (isObject
                && FinishReasonNormalizer.TryNormalize(payload, streaming: true, earlierToolCalls: _sawToolCalls) is { } rewritten)
            {
                _sawToolCalls |= FinishReasonNormalizer.HasToolCallsProperty(payload);
                _output.Write(line[..payloadStart]);
                _output.Write(rewritten);
                _output.Write(terminator);
                return;
            }
        }

        if (line.StartsWith("data:"u8) && FinishReasonNormalizer.HasToolCallsProperty(line))
        {
            _sawToolCalls = true;
        }

        _output.Write(line);
        _output.Write(terminator);
    }
}
