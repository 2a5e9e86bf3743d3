using System.Text;

namespace Rlm.Tools.Cli;

/// <summary>
/// A writer that passes text to another with every control character made visible (<see cref="TerminalText"/>): the
/// CLI's standard error, so nothing it writes (notes, progress, errors quoting input, MCP logs) can carry a live escape
/// sequence. Writes go through at once; nothing is buffered but a CR waiting to see whether an LF follows it.
/// </summary>
internal sealed class InertTextWriter(TextWriter inner) : TextWriter
{
    private bool _pendingCarriageReturn;

    /// <inheritdoc />
    public override Encoding Encoding => inner.Encoding;

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => inner.NewLine;
        set => inner.NewLine = value;
    }

    /// <inheritdoc />
    public override IFormatProvider FormatProvider => inner.FormatProvider;

    /// <inheritdoc />
    public override void Write(char value) => Write(new ReadOnlySpan<char>(in value));

    /// <inheritdoc />
    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    /// <inheritdoc />
    public override void Write(string? value) => Write(value.AsSpan());

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<char> buffer)
    {
        var text = new StringBuilder(buffer.Length + 8);
        foreach (char c in buffer)
        {
            if (_pendingCarriageReturn)
            {
                _pendingCarriageReturn = false;
                if (c == '\n')
                {
                    text.Append('\r'); // CRLF: a line end
                }
                else
                {
                    TerminalText.AppendVisible(text, '\r');
                }
            }

            if (c == '\r')
            {
                _pendingCarriageReturn = true;
            }
            else if (TerminalText.IsControl(c))
            {
                TerminalText.AppendVisible(text, c);
            }
            else
            {
                text.Append(c);
            }
        }

        inner.Write(text.ToString());
    }

    /// <inheritdoc />
    public override void WriteLine() => Write(CoreNewLine); // CRLF on Windows passes whole

    /// <inheritdoc />
    public override void WriteLine(string? value)
    {
        Write(value);
        WriteLine();
    }

    /// <inheritdoc />
    public override void Flush() => inner.Flush();

    /// <inheritdoc />
    public override Task FlushAsync() => inner.FlushAsync();

    /// <inheritdoc />
    public override Task WriteAsync(char value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task WriteAsync(string? value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task WriteLineAsync()
    {
        WriteLine();
        return Task.CompletedTask;
    }
}
