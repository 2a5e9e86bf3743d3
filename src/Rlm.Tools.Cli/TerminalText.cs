using System.Text;

namespace Rlm.Tools.Cli;

/// <summary>
/// Makes untrusted text (documents, model output, tool arguments, file names) inert on a terminal: every control
/// character is shown instead of obeyed, so no escape sequence can move the cursor, recolor, retitle the window, write
/// to the clipboard (OSC 52) or hide text.
/// </summary>
/// <remarks>
/// The rendering is <c>less</c>'s: a C0 control as caret notation (ESC <c>^[</c>, BEL <c>^G</c>, a lone CR <c>^M</c>),
/// DEL as <c>^?</c>, and a C1 control (U+0080–U+009F, 8-bit CSI included) or a bidirectional override or isolate
/// (U+202A–U+202E, U+2066–U+2069) as <c>&lt;U+XXXX&gt;</c>. Line feeds and tabs stay, and so does CR before LF. Only
/// control characters are replaced, one at a time, so an escape sequence becomes visible text such as <c>^[[31m</c>
/// whatever way it is split across writes. Hand-written: no package on hand renders text for terminals this way
/// (Spectre.Console's <c>Markup.Escape</c> escapes its own markup only).
/// </remarks>
internal static class TerminalText
{
    /// <summary>Gets standard error as it was before <see cref="InstallOnStandardError"/>: for Spectre.Console, whose own color codes must pass (it is handed only inert text).</summary>
    public static TextWriter RawStandardError { get; private set; } = Console.Error;

    /// <summary>
    /// Replaces <see cref="Console.Error"/> by an <see cref="InertTextWriter"/> over it, before anything is written: every
    /// note, progress line, error message and MCP log line then reaches the terminal (or the log file) inert.
    /// </summary>
    public static void InstallOnStandardError()
    {
        RawStandardError = Console.Error;
        Console.SetError(TextWriter.Synchronized(new InertTextWriter(RawStandardError)));
    }

    /// <summary>
    /// The answer as written to standard output: inert when it is a terminal; byte for byte when it is redirected to a
    /// file or a pipe, where the reader asked for the data (as <c>grep</c> and <c>ripgrep</c> write matches).
    /// </summary>
    public static string ForStandardOutput(string text) => Console.IsOutputRedirected ? text : Inert(text);

    /// <summary>Returns <paramref name="text"/> with every control character made visible (see remarks); the same instance when it has none.</summary>
    public static string Inert(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        int first = 0;
        while (first < text.Length && !NeedsReplacing(text, first))
        {
            first++;
        }

        if (first == text.Length)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        builder.Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            if (NeedsReplacing(text, i))
            {
                AppendVisible(builder, text[i]);
            }
            else
            {
                builder.Append(text[i]);
            }
        }

        return builder.ToString();
    }

    /// <summary>Whether <paramref name="c"/> is a character a terminal obeys rather than shows (line feed and tab excepted).</summary>
    public static bool IsControl(char c) =>
        (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7F && c <= 0x9F) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    /// <summary>Appends the visible form of a control character: <c>^[</c>, <c>^?</c> or <c>&lt;U+009B&gt;</c>.</summary>
    public static void AppendVisible(StringBuilder builder, char c)
    {
        if (c < 0x20)
        {
            builder.Append('^').Append((char)(c + 0x40));
        }
        else if (c == 0x7F)
        {
            builder.Append("^?");
        }
        else
        {
            builder.Append("<U+").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)).Append('>');
        }
    }

    // CR is kept only as part of CRLF (a Windows line end); alone it would move the cursor back over the line.
    private static bool NeedsReplacing(string text, int i) =>
        IsControl(text[i]) && !(text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n');
}
