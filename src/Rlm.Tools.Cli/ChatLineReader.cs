using System.Text;
using RadLine;
using Spectre.Console;

namespace Rlm.Tools.Cli;

/// <summary>How <c>rlm chat</c> reads its questions.</summary>
internal enum ChatInputMode
{
    /// <summary>A pipe or file: UTF-8 lines, no prompt.</summary>
    Stream,

    /// <summary>A terminal without a usable line editor (a dumb terminal, stderr redirected): the terminal's own line input, with the prompt.</summary>
    TerminalLine,

    /// <summary>A terminal: RadLine's line editor (cursor keys, Home/End, word moves, history with Up/Down), drawn on stderr.</summary>
    LineEditor,
}

/// <summary>
/// Reads the questions of <c>rlm chat</c> one line at a time: with a line editor and history at a terminal, plainly from a
/// pipe. Each read runs off the calling thread, so a Ctrl+C can end the chat while a read is blocked.
/// </summary>
internal sealed class ChatLineReader
{
    private readonly Func<Task<string?>> _read;

    private ChatLineReader(ChatInputMode mode, Func<Task<string?>> read)
    {
        Mode = mode;
        _read = read;
    }

    /// <summary>Gets how the lines are read.</summary>
    public ChatInputMode Mode { get; }

    /// <summary>Gets a value indicating whether the reader draws the prompt itself (the line editor does).</summary>
    public bool DrawsPrompt => Mode == ChatInputMode.LineEditor;

    /// <summary>Reads the next line, <see langword="null"/> at end of input (Ctrl+D on an empty line at a terminal).</summary>
    public Task<string?> ReadLineAsync() => _read();

    /// <summary>
    /// The line editor needs standard input and the terminal it draws on (stderr, so that stdout carries answers only) to
    /// be terminals that understand ANSI cursor movement; otherwise the terminal's own line input, and for a pipe a plain read.
    /// </summary>
    internal static ChatInputMode Choose(bool inputIsTerminal, bool stderrIsTerminal, string? term, bool editorSupported) =>
        !inputIsTerminal ? ChatInputMode.Stream
        : stderrIsTerminal && editorSupported && !string.Equals(term, "dumb", StringComparison.OrdinalIgnoreCase) ? ChatInputMode.LineEditor
        : ChatInputMode.TerminalLine;

    /// <summary>Chooses the reader for this process's standard input and error (see <see cref="Choose"/>).</summary>
    public static ChatLineReader Create(string prompt)
    {
        bool inputIsTerminal = !Console.IsInputRedirected;
        IAnsiConsole? console = null;
        if (inputIsTerminal && !Console.IsErrorRedirected)
        {
            // The raw stderr: the editor's own cursor sequences must reach the terminal (the installed stderr makes escapes inert).
            console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new TerminalErrorOutput() });
        }

        var mode = Choose(inputIsTerminal, !Console.IsErrorRedirected, Environment.GetEnvironmentVariable("TERM"), console is not null && LineEditor.IsSupported(console));
        switch (mode)
        {
            case ChatInputMode.LineEditor:
                // The prompt is plain text, not Spectre markup (a '[' in it would be read as a style).
                // RadLine puts one space after its prompt.
                var editor = new LineEditor(console) { Prompt = new LineEditorPrompt(Markup.Escape(prompt.TrimEnd())) };
                editor.KeyBindings.Add<PreviousHistoryCommand>(ConsoleKey.UpArrow);
                editor.KeyBindings.Add<NextHistoryCommand>(ConsoleKey.DownArrow);
                editor.KeyBindings.Add(ConsoleKey.D, ConsoleModifiers.Control, () => new EndOfInputCommand());
                return new ChatLineReader(mode, () => Task.Run(() => editor.ReadLine(CancellationToken.None)));
            case ChatInputMode.TerminalLine:
                return new ChatLineReader(mode, () => Task.Run(Console.In.ReadLine));
            default:
                var reader = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
                return new ChatLineReader(mode, () => Task.Run(reader.ReadLine));
        }
    }

    /// <summary>
    /// Standard error as it was before <see cref="TerminalText.InstallOnStandardError"/>, known to be a terminal here:
    /// Spectre.Console recognises a terminal only by <see cref="Console.Error"/> itself, which is now the inert writer.
    /// </summary>
    private sealed class TerminalErrorOutput : IAnsiConsoleOutput
    {
        public TextWriter Writer => TerminalText.RawStandardError;

        public bool IsTerminal => true;

        public int Width => Size(() => Console.WindowWidth, 80);

        public int Height => Size(() => Console.WindowHeight, 24);

        public void SetEncoding(Encoding encoding)
        {
        }

        private static int Size(Func<int> read, int fallback)
        {
            try
            {
                return read() is > 0 and var value ? value : fallback;
            }
            catch (IOException)
            {
                return fallback;
            }
        }
    }

    /// <summary>Ctrl+D on an empty line ends the input, as in a shell; on a line with text it does nothing.</summary>
    private sealed class EndOfInputCommand : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            if (context.Buffer.Content.Length == 0)
            {
                context.Submit(SubmitAction.Cancel);
            }
        }
    }
}
