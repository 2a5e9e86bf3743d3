using Rlm.Tools.Context;

namespace Rlm.Tools.Cli;

/// <summary>The loaded input of one run: one context string, or several named documents.</summary>
internal sealed class CliInput
{
    private RlmCorpus? _corpus;
    private IReadOnlyList<(string Name, RlmTextDecoding Decoding)>? _decodings;

    /// <summary>Gets the single context string (<c>--stdin</c>, one <c>--file</c>), or <see langword="null"/>.</summary>
    public string? Context { get; init; }

    /// <summary>Gets the documents (several <c>--file</c>, <c>--dir</c>), or <see langword="null"/>.</summary>
    public IReadOnlyList<RlmDocument>? Documents { get; init; }

    /// <summary>Gets a value indicating whether the input was read with <c>--dir</c> (then the corpus says what was skipped).</summary>
    public bool IsDirectory { get; init; }

    /// <summary>
    /// Gets how each file's bytes were decoded when there is something to say (a guessed encoding, replaced bytes, UTF-16,
    /// gzip): the name (a path, or <c>standard input</c>) and the decoding. Empty when every file was clean UTF-8.
    /// </summary>
    public IReadOnlyList<(string Name, RlmTextDecoding Decoding)> Decodings
    {
        get => _decodings ?? [.. (Documents ?? []).Where(d => d.Decoding is { } e && Worth(e)).Select(d => (d.Name, d.Decoding!))];
        init => _decodings = value;
    }

    /// <summary>Whether a decoding is worth a note: anything but UTF-8 (with or without a byte order mark) read cleanly.</summary>
    public static bool Worth(RlmTextDecoding decoding) => decoding.IsNoteworthy || decoding.Encoding != "utf-8";

    /// <summary>Gets a short description of where the input came from, for the verbose header.</summary>
    public required string Source { get; init; }

    /// <summary>
    /// Gets the context exactly as the engine holds it (documents joined with their <c>==&gt; name &lt;==</c> header lines),
    /// prepared once: the run queries it, and the sizes shown to people (<c>-v</c>, <c>--json</c>) are its sizes, the
    /// ones the trace shows too.
    /// </summary>
    /// <remarks>Under <c>--dir</c>, set by the loader: it carries what the walk skipped (<see cref="RlmCorpus.Skipped"/>).</remarks>
    public RlmCorpus Corpus
    {
        get => _corpus ??= Context is not null ? RlmCorpus.FromText(Context) : RlmCorpus.FromDocuments(Documents!);
        init => _corpus = value;
    }

    /// <summary>Gets the characters of the context, document header lines included.</summary>
    public long Chars => Corpus.Length;

    /// <summary>Gets the lines of the context, document header lines included.</summary>
    public long Lines => Corpus.LineCount;
}

/// <summary>Reads the input sources of the command; every user mistake becomes a <see cref="CliUsageException"/>.</summary>
/// <remarks>
/// Files are read as streams, never by seeking back: <c>--file /dev/stdin</c>, <c>--file &lt;(cmd)</c> and named pipes
/// (FIFOs) work like regular files. Opening a FIFO waits for a writer, as <c>cat</c> does; the caller runs the loading
/// on a worker thread so that Ctrl+C ends that wait.
/// </remarks>
internal static class InputLoader
{
    /// <summary>
    /// The most characters one context can hold: the longest .NET string (0x3FFFFFDF = 1,073,741,791 UTF-16 code units on
    /// 64-bit runtimes). Several documents are joined into one such string, their <c>==&gt; name &lt;==</c> header lines included.
    /// </summary>
    public const long MaxContextChars = RlmCorpus.MaxLength;

    /// <summary>Reads the <c>--file</c> paths: one file is a single context; several are documents named by the paths as given.</summary>
    public static CliInput LoadFiles(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        if (paths.Count == 1)
        {
            var (text, decoding) = ReadTextFile(paths[0], MaxContextChars, out bool streamed, cancellationToken);
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new CliUsageException($"the input is empty: {paths[0]}") { FromStream = streamed };
            }

            return new CliInput { Context = text, Source = $"file {paths[0]}", Decodings = CliInput.Worth(decoding) ? [(paths[0], decoding)] : [] };
        }

        var documents = new List<RlmDocument>(paths.Count);
        long total = 0;
        bool anyStreamed = false;
        foreach (var path in paths)
        {
            string name = DirectoryLoader.DocumentName(path);
            long budget = MaxContextChars - total - DirectoryLoader.HeaderChars(name);
            if (budget < 0)
            {
                throw TooLarge($"the {paths.Count} files");
            }

            var (text, decoding) = ReadTextFile(path, budget, out bool streamed, cancellationToken, totalOf: $"the {paths.Count} files");
            anyStreamed |= streamed;
            total += DirectoryLoader.HeaderChars(name) + text.Length;
            documents.Add(new RlmDocument(name, text, decoding));
        }

        if (documents.All(d => string.IsNullOrWhiteSpace(d.Text)))
        {
            throw new CliUsageException($"the input is empty: all {paths.Count} files are empty") { FromStream = anyStreamed };
        }

        return new CliInput { Documents = documents, Source = $"{paths.Count} files" };
    }

    /// <summary>
    /// Reads the text files under <paramref name="directory"/> with the core's walker and loader (the ones of
    /// <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/>); what they skip is in the corpus
    /// (<see cref="RlmCorpus.Skipped"/>, <see cref="RlmCorpus.SkippedCounts"/>). Documents are named as <c>grep -r</c> names
    /// them: <see cref="DocumentNamePrefix"/> joined with the path under the directory.
    /// </summary>
    public static CliInput LoadDirectory(string directory, RlmDirectoryOptions options, CancellationToken cancellationToken = default)
    {
        DirectoryLoad loaded;
        try
        {
            loaded = DirectoryLoader.Load(directory, options, MaxContextChars, cancellationToken, DocumentNamePrefix(directory));
        }
        catch (DirectoryNotFoundException)
        {
            throw new CliUsageException(File.Exists(directory)
                ? $"not a directory: {directory} (use --file for a file)"
                : $"directory not found: {directory}");
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CliUsageException($"cannot read directory {directory}: {TextLimits.OneLine(e.Message, int.MaxValue)}");
        }

        return new CliInput { Documents = loaded.Documents, Source = $"{loaded.Documents.Count} files under {directory}", Corpus = RlmCorpus.FromDirectoryLoad(loaded), IsDirectory = true };
    }

    /// <summary>
    /// What the CLI puts before a document's path under <c>--dir</c>, so that a citation opens from where the command ran:
    /// the directory relative to the working directory (<c>src/</c> for <c>--dir src</c>, <c>--dir ./src/</c> or an absolute
    /// path under it; nothing for <c>--dir .</c>; <c>../lib/</c> for <c>--dir ../lib</c>), and for an absolute path outside
    /// the working directory, or run from the file system's root, that absolute path. Always with <c>/</c>.
    /// </summary>
    internal static string DocumentNamePrefix(string directory)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        string cwd = Directory.GetCurrentDirectory();
        string relative = Path.GetRelativePath(cwd, full);
        // From the file system's root (where MCP clients often start servers) an absolute path reads better as it is.
        bool outside = relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative)
            || Path.GetPathRoot(cwd) == cwd;
        string name = (Path.IsPathRooted(directory) && outside ? full : relative).Replace(Path.DirectorySeparatorChar, '/');
        return name == "." ? string.Empty : name.EndsWith('/') ? name : name + "/";
    }

    /// <summary>Reads all of standard input as text (the encoding detected as for files; gzip decompressed).</summary>
    public static CliInput LoadStdin(CancellationToken cancellationToken) =>
        LoadStdin(IsTerminal(), Console.Error, cancellationToken);

    /// <summary>The note written before standard input is read from a terminal, where nothing else would say that rlm waits for typing.</summary>
    public static string TerminalNote => OperatingSystem.IsWindows()
        ? "rlm: reading from the terminal; end with Ctrl+Z then Enter"
        : "rlm: reading from the terminal; end with Ctrl+D";

    /// <summary>Reads standard input; when <paramref name="stdinIsTerminal"/>, first says on <paramref name="notes"/> how to end the typing.</summary>
    internal static CliInput LoadStdin(bool stdinIsTerminal, TextWriter notes, CancellationToken cancellationToken)
    {
        NoteIfTerminal(stdinIsTerminal, notes);
        LoadedText loaded;
        try
        {
            using var stdin = OpenStandardInput();
            loaded = ReadText(stdin, "standard input", MaxContextChars, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new CliUsageException($"cannot read standard input: {TextLimits.OneLine(e.Message, int.MaxValue)}") { FromStream = true };
        }

        if (loaded.Text is not { } text)
        {
            throw new CliUsageException($"standard input is not text: {TextFileReader.NotTextDetail(loaded)}") { FromStream = true };
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CliUsageException("the input is empty: nothing on standard input") { FromStream = true };
        }

        return new CliInput { Context = text, Source = "standard input", Decodings = CliInput.Worth(loaded.Decoding) ? [("standard input", loaded.Decoding)] : [] };
    }

    /// <summary>Says on <paramref name="notes"/> how to end the input when standard input is a terminal (otherwise rlm would seem to hang).</summary>
    internal static void NoteIfTerminal(bool stdinIsTerminal, TextWriter notes)
    {
        if (stdinIsTerminal)
        {
            notes.WriteLine(TerminalNote);
            notes.Flush();
        }
    }

    /// <summary>Whether standard input is a terminal (not redirected from a file or a pipe).</summary>
    private static bool IsTerminal()
    {
        try
        {
            return !Console.IsInputRedirected;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Reads a <c>--question-file</c> (<c>-</c>: standard input) as UTF-8 text.</summary>
    public static string ReadQuestionFile(string path, CancellationToken cancellationToken)
    {
        // A question is sent to the model with every root request: a megabyte is far beyond any sensible question.
        const long MaxQuestionChars = 1024 * 1024;
        string? text;
        try
        {
            using var stream = path == "-" ? Console.OpenStandardInput() : OpenExistingFile(path, "--question-file");
            text = ReadText(stream, path == "-" ? "standard input" : path, MaxQuestionChars, cancellationToken, what: "question").Text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException or InvalidDataException)
        {
            throw new CliUsageException($"cannot read the question from {(path == "-" ? "standard input" : path)}: {TextLimits.OneLine(e.Message, int.MaxValue)}") { FromStream = path == "-" };
        }

        if (text is null)
        {
            throw new CliUsageException($"--question-file {path}: not text (binary content)");
        }

        return text;
    }

    private static (string Text, RlmTextDecoding Decoding) ReadTextFile(string path, long budget, out bool streamed, CancellationToken cancellationToken, string? totalOf = null)
    {
        try
        {
            using var stream = OpenExistingFile(path, "--file");
            streamed = !stream.CanSeek;
            var loaded = ReadText(stream, path, budget, cancellationToken, totalOf);
            return loaded.Text is { } text
                ? (text, loaded.Decoding)
                : throw new CliUsageException(loaded.IsBinary
                    ? $"not a text file (binary content{(loaded.Decoding.Compression is null ? "" : $" once {loaded.Decoding.Compression}-decompressed")}): {path}"
                    : $"{path} is {TextFileReader.NotTextDetail(loaded)}");
        }
        catch (InvalidDataException e)
        {
            throw new CliUsageException($"cannot read {path}: corrupt compressed data: {TextLimits.OneLine(e.Message, int.MaxValue)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CliUsageException($"cannot read {path}: {TextLimits.OneLine(e.Message, int.MaxValue)}");
        }
    }

    private static FileStream OpenExistingFile(string path, string option)
    {
        if (!File.Exists(path))
        {
            if (path.StartsWith('-') && !Directory.Exists(path))
            {
                // An unknown option right after --file arrives here as its path.
                throw new CliUsageException($"unrecognized option {path} (see rlm --help)");
            }

            throw new CliUsageException(Directory.Exists(path)
                ? $"{path} is a directory{(option == "--file" ? " (use --dir for a directory)" : "")}"
                : $"file not found: {path}{(option == "--file" ? ReadAsPathHint(path) : "")}");
        }

        return TextFileReader.OpenRead(path);
    }

    /// <summary>
    /// For a <c>--file</c> value that names nothing and reads like a question (a space or a '?'): it was taken as the path,
    /// and how to write it; otherwise empty.
    /// </summary>
    internal static string ReadAsPathHint(string path) =>
        !File.Exists(path) && !Directory.Exists(path) && (path.Any(char.IsWhiteSpace) || path.Contains('?', StringComparison.Ordinal))
            ? $" (this was read as the path of --file, which takes one path: give the question as its own quoted argument, e.g. rlm \"{TextLimits.OneLine(path, 60)}\" --file notes.txt)"
            : string.Empty;

    /// <summary>
    /// Standard input as a stream. On Unix a <see cref="FileStream"/> over descriptor 0, which can seek when stdin is
    /// redirected from a file (<c>rlm … --stdin &lt; big.log</c>), so it loads as fast as <c>--file</c> (two passes into
    /// one string); the console stream never seeks. Falls back to the console stream when descriptor 0 cannot be used so.
    /// </summary>
    private static Stream OpenStandardInput()
    {
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                // A closed or unusual stdin: the console stream reports it the usual way.
            }
        }

        return Console.OpenStandardInput();
    }

    /// <summary>
    /// Reads a stream as text with the core's reader (<see cref="TextFileReader"/>), no text when binary or compressed in a
    /// format not read; a <see cref="CliUsageException"/> as soon as it passes <paramref name="budget"/> characters.
    /// </summary>
    private static LoadedText ReadText(Stream stream, string display, long budget, CancellationToken cancellationToken, string? totalOf = null, string what = "input")
    {
        try
        {
            return TextFileReader.ReadText(stream, budget, cancellationToken);
        }
        catch (ArgumentException)
        {
            throw TooLarge(totalOf ?? display, what);
        }
    }

    private static CliUsageException TooLarge(string what, string kind = "input") => kind == "question"
        ? new CliUsageException($"the question is too long: {what} holds more than 1,048,576 characters")
        : new CliUsageException(DirectoryLoader.TooLargeMessage(what, MaxContextChars));

}
