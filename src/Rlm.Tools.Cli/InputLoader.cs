using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;

namespace Rlm.Tools.Cli;

/// <summary>The loaded input of one run: one context string, or several named documents.</summary>
internal sealed class CliInput
{
    private RlmCorpus? _corpus;

    /// <summary>Gets the single context string (<c>--stdin</c>, one <c>--file</c>), or <see langword="null"/>.</summary>
    public string? Context { get; init; }

    /// <summary>Gets the documents (several <c>--file</c>, <c>--dir</c>), or <see langword="null"/>.</summary>
    public IReadOnlyList<RlmDocument>? Documents { get; init; }

    /// <summary>Gets a short description of where the input came from, for the verbose header.</summary>
    public required string Source { get; init; }

    /// <summary>Gets the files and folders skipped under <c>--dir</c> (binary, unreadable or empty files; unreadable folders), with the reason.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>
    /// Gets the context exactly as the engine holds it (documents joined with their <c>==&gt; name &lt;==</c> header lines),
    /// prepared once: the run queries it, and the sizes shown to people (<c>-v</c>, <c>--json</c>) are its sizes, the
    /// ones the trace shows too.
    /// </summary>
    public RlmCorpus Corpus => _corpus ??= Context is not null ? RlmCorpus.FromText(Context) : RlmCorpus.FromDocuments(Documents!);

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
    /// <summary>The glob used when <c>--dir</c> has no <c>--glob</c>.</summary>
    public const string DefaultGlob = "**/*";

    /// <summary>
    /// The most characters one context can hold: the longest .NET string (0x3FFFFFDF = 1,073,741,791 UTF-16 code units on
    /// 64-bit runtimes). Several documents are joined into one such string, their <c>==&gt; name &lt;==</c> header lines included.
    /// </summary>
    public const long MaxContextChars = RlmCorpus.MaxLength;

    /// <summary>Directories never read under <c>--dir</c> (build output and version control), at any depth.</summary>
    public static readonly string[] ExcludedDirectories = ["bin", "obj", ".git"];

    private const int BinarySniffBytes = 8192;

    /// <summary>Reads one <c>--file</c>: one file is a single context; several are documents named by the paths as given.</summary>
    public static CliInput LoadFiles(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        if (paths.Count == 1)
        {
            string text = ReadTextFile(paths[0], MaxContextChars, out bool streamed, cancellationToken);
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new CliUsageException($"the input is empty: {paths[0]}") { FromStream = streamed };
            }

            return new CliInput { Context = text, Source = $"file {paths[0]}" };
        }

        var documents = new List<RlmDocument>(paths.Count);
        long total = 0;
        bool anyStreamed = false;
        foreach (var path in paths)
        {
            string name = DocumentName(path);
            long budget = MaxContextChars - total - HeaderChars(name);
            if (budget < 0)
            {
                throw TooLarge($"the {paths.Count} files");
            }

            string text = ReadTextFile(path, budget, out bool streamed, cancellationToken, totalOf: $"the {paths.Count} files");
            anyStreamed |= streamed;
            total += HeaderChars(name) + text.Length;
            documents.Add(new RlmDocument(name, text));
        }

        if (documents.All(d => string.IsNullOrWhiteSpace(d.Text)))
        {
            throw new CliUsageException($"the input is empty: all {paths.Count} files are empty") { FromStream = anyStreamed };
        }

        return new CliInput { Documents = documents, Source = $"{paths.Count} files" };
    }

    /// <summary>
    /// Reads every text file under <paramref name="directory"/> that matches the globs, sorted ordinally by relative path.
    /// Binary, empty and unreadable files and unreadable folders are skipped and listed in <see cref="CliInput.Skipped"/>.
    /// </summary>
    public static CliInput LoadDirectory(string directory, IReadOnlyList<string> globs, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(directory))
        {
            throw new CliUsageException(File.Exists(directory)
                ? $"not a directory: {directory} (use --file for a file)"
                : $"directory not found: {directory}");
        }

        var matcher = new Matcher(StringComparison.Ordinal);
        foreach (var glob in globs.Count == 0 ? [DefaultGlob] : globs)
        {
            if (string.IsNullOrWhiteSpace(glob))
            {
                throw new CliUsageException("--glob needs a pattern, e.g. --glob \"*.cs\"");
            }

            string pattern = NormalizeGlob(glob);
            if (pattern.Split('/').Contains(".."))
            {
                throw new CliUsageException($"--glob {glob}: a pattern may not contain '..'; it matches files under --dir only");
            }

            matcher.AddInclude(pattern);
        }

        foreach (var excluded in ExcludedDirectories)
        {
            matcher.AddExclude($"**/{excluded}/**");
        }

        var skipped = new List<string>();
        var root = new DirectoryInfo(directory);
        List<string> relativePaths;
        try
        {
            relativePaths = [.. matcher.Execute(new SkippingDirectoryInfo(root, root.FullName, skipped)).Files.Select(f => f.Path)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CliUsageException($"cannot read directory {directory}: {OneLine(e.Message)}");
        }
        catch (ArgumentException e)
        {
            // Microsoft.Extensions.FileSystemGlobbing rejects some patterns only when it runs them.
            throw new CliUsageException($"--glob: invalid pattern: {OneLine(e.Message)}");
        }

        string rootPath = Path.TrimEndingDirectorySeparator(root.FullName) + Path.DirectorySeparatorChar;
        relativePaths.Sort(StringComparer.Ordinal);
        var documents = new List<RlmDocument>(relativePaths.Count);
        long total = 0;
        foreach (var relative in relativePaths)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string full = Path.GetFullPath(Path.Combine(root.FullName, relative));
            if (!full.StartsWith(rootPath, StringComparison.Ordinal))
            {
                continue; // defence in depth: nothing outside --dir is read, whatever a pattern resolves to
            }

            string name = DocumentName(relative);
            long budget = MaxContextChars - total - HeaderChars(name);
            if (budget < 0)
            {
                throw TooLarge($"the files under {directory}");
            }

            string? text;
            try
            {
                using var stream = OpenRead(full);
                text = ReadText(stream, full, budget, cancellationToken, totalOf: $"the files under {directory}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
            {
                skipped.Add($"{relative} (unreadable: {OneLine(e.Message)})");
                continue;
            }

            if (text is null)
            {
                skipped.Add($"{relative} (binary)");
                continue;
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                skipped.Add($"{relative} (empty)");
                continue;
            }

            total += HeaderChars(name) + text.Length;
            documents.Add(new RlmDocument(name, text));
        }

        if (documents.Count == 0)
        {
            string globText = string.Join(", ", globs.Count == 0 ? [DefaultGlob] : globs);
            throw new CliUsageException(relativePaths.Count == 0
                ? $"no files under {directory} match {globText}{(skipped.Count > 0 ? $" ({skipped.Count} unreadable folder{(skipped.Count == 1 ? "" : "s")} skipped)" : "")}"
                : $"no readable text file under {directory} matches {globText} ({skipped.Count} skipped: binary, unreadable or empty)");
        }

        return new CliInput { Documents = documents, Source = $"{documents.Count} files under {directory}", Skipped = skipped };
    }

    /// <summary>Reads all of standard input as text (UTF-8 unless a byte order mark says otherwise).</summary>
    public static CliInput LoadStdin(CancellationToken cancellationToken)
    {
        string? text;
        try
        {
            using var stdin = OpenStandardInput();
            text = ReadText(stdin, "standard input", MaxContextChars, cancellationToken);
        }
        catch (IOException e)
        {
            throw new CliUsageException($"cannot read standard input: {OneLine(e.Message)}") { FromStream = true };
        }

        if (text is null)
        {
            throw new CliUsageException("standard input is not text (it holds NUL bytes)") { FromStream = true };
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CliUsageException("the input is empty: nothing on standard input") { FromStream = true };
        }

        return new CliInput { Context = text, Source = "standard input" };
    }

    /// <summary>
    /// A glob without a <c>/</c> matches file names at any depth (<c>*.cs</c> means <c>**/*.cs</c>), as in <c>.gitignore</c>;
    /// a leading <c>./</c> is dropped.
    /// </summary>
    internal static string NormalizeGlob(string glob)
    {
        string pattern = glob.Trim().Replace('\\', '/');
        while (pattern.StartsWith("./", StringComparison.Ordinal))
        {
            pattern = pattern[2..];
        }

        return pattern.Contains('/', StringComparison.Ordinal) ? pattern.TrimStart('/') : "**/" + pattern;
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
            text = ReadText(stream, path == "-" ? "standard input" : path, MaxQuestionChars, cancellationToken, what: "question");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CliUsageException($"cannot read the question from {(path == "-" ? "standard input" : path)}: {OneLine(e.Message)}") { FromStream = path == "-" };
        }

        if (text is null)
        {
            throw new CliUsageException($"--question-file {path}: not text (binary content)");
        }

        return text;
    }

    private static string ReadTextFile(string path, long budget, out bool streamed, CancellationToken cancellationToken, string? totalOf = null)
    {
        try
        {
            using var stream = OpenExistingFile(path, "--file");
            streamed = !stream.CanSeek;
            return ReadText(stream, path, budget, cancellationToken, totalOf) ?? throw new CliUsageException($"not a text file (binary content): {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CliUsageException($"cannot read {path}: {OneLine(e.Message)}");
        }
    }

    private static FileStream OpenExistingFile(string path, string option)
    {
        if (!File.Exists(path))
        {
            if (path.StartsWith('-') && !Directory.Exists(path))
            {
                // --file takes several paths, so an unknown option after it arrives here as a path.
                throw new CliUsageException($"unrecognized option {path} (see rlm --help)");
            }

            throw new CliUsageException(Directory.Exists(path)
                ? $"{path} is a directory{(option == "--file" ? " (use --dir for a directory)" : "")}"
                : $"file not found: {path}");
        }

        return OpenRead(path);
    }

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

    /// <summary>Opens a file to read; a FIFO blocks here until a writer opens it (as <c>cat</c> does).</summary>
    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.None);

    /// <summary>
    /// Reads a stream to its end as text (UTF-8 unless a byte order mark says UTF-16 or UTF-32), or returns
    /// <see langword="null"/> when it is binary (a NUL byte in its first 8,192 bytes, unless a UTF-16/32 byte order mark
    /// says NULs belong to the text). Throws a <see cref="CliUsageException"/> as soon as the text passes
    /// <paramref name="budget"/> characters, so that an oversized input never has to fit in memory.
    /// </summary>
    /// <remarks>
    /// <see cref="RlmTextLoader"/> decodes into one string of exact length (one copy of the text at the peak, issue 10).
    /// A regular file is sniffed, then read from its start in two passes (count, decode); a pipe, FIFO or character device
    /// is read forward only: its sniffed head is handed back in front of the rest.
    /// </remarks>
    private static string? ReadText(Stream stream, string display, long budget, CancellationToken cancellationToken, string? totalOf = null, string what = "input")
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

        int maxLength = (int)Math.Clamp(budget, 0, RlmCorpus.MaxLength);
        Stream source = stream;
        if (stream.CanSeek)
        {
            stream.Position = start;
        }
        else
        {
            source = new HeadThenRest(head.AsMemory(0, read), stream);
        }

        try
        {
            // Synchronously: the caller runs the loading on a worker thread, and a blocked read on a pipe ignores the token anyway.
            return RlmTextLoader.ReadStreamAsync(source, maxLength, cancellationToken).GetAwaiter().GetResult();
        }
        catch (ArgumentException)
        {
            throw TooLarge(totalOf ?? display, what);
        }
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

    private static CliUsageException TooLarge(string what, string kind = "input") => kind == "question"
        ? new CliUsageException($"the question is too long: {what} holds more than 1,048,576 characters")
        : new CliUsageException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"the input is too large for one context: {what} hold{(what.StartsWith("the ", StringComparison.Ordinal) ? "" : "s")} more than {MaxContextChars:N0} characters (the longest .NET string, document headers included)"));

    /// <summary>The characters a document adds to the joined context besides its text: its header line and, at most, one line break.</summary>
    private static long HeaderChars(string name) => "==> ".Length + name.Length + " <==\n".Length + 1;

    /// <summary>A document name may not hold a line break; such (rare) characters in a path become <c>?</c>.</summary>
    private static string DocumentName(string path) =>
        path.AsSpan().IndexOfAny('\r', '\n') >= 0 ? path.Replace('\r', '?').Replace('\n', '?') : path;

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    /// <summary>
    /// A directory for Microsoft.Extensions.FileSystemGlobbing that skips a subfolder it cannot list and records it, instead
    /// of letting the <see cref="UnauthorizedAccessException"/> abort the whole match (what <see cref="DirectoryInfoWrapper"/>
    /// does). Hand-written because the library offers no error hook; everything else is delegated to the wrappers.
    /// </summary>
    private sealed class SkippingDirectoryInfo(DirectoryInfo directory, string rootPath, List<string> skipped, bool isRoot = true) : DirectoryInfoBase
    {
        private readonly DirectoryInfoWrapper _inner = new(directory);

        public override string Name => _inner.Name;

        public override string FullName => _inner.FullName;

        public override DirectoryInfoBase? ParentDirectory => _inner.ParentDirectory;

        public override IEnumerable<FileSystemInfoBase> EnumerateFileSystemInfos()
        {
            List<FileSystemInfo> entries;
            try
            {
                entries = [.. directory.EnumerateFileSystemInfos()];
            }
            catch (Exception e) when (!isRoot && e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
            {
                string relative = Path.GetRelativePath(rootPath, directory.FullName).Replace('\\', '/');
                skipped.Add($"{relative}/ (unreadable folder: {OneLine(e.Message)})");
                return [];
            }

            return entries.Select(e => e is DirectoryInfo sub
                ? new SkippingDirectoryInfo(sub, rootPath, skipped, isRoot: false)
                : (FileSystemInfoBase)new FileInfoWrapper((FileInfo)e));
        }

        public override DirectoryInfoBase? GetDirectory(string path) =>
            _inner.GetDirectory(path) is { } found ? new SkippingDirectoryInfo(new DirectoryInfo(found.FullName), rootPath, skipped, isRoot: false) : null;

        public override FileInfoBase? GetFile(string path) => _inner.GetFile(path);
    }
}
