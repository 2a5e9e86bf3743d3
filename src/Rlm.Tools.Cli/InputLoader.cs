using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;

namespace Rlm.Tools.Cli;

/// <summary>The loaded input of one run: one context string, or several named documents.</summary>
internal sealed class CliInput
{
    /// <summary>Gets the single context string (<c>--stdin</c>, one <c>--file</c>), or <see langword="null"/>.</summary>
    public string? Context { get; init; }

    /// <summary>Gets the documents (several <c>--file</c>, <c>--dir</c>), or <see langword="null"/>.</summary>
    public IReadOnlyList<RlmDocument>? Documents { get; init; }

    /// <summary>Gets a short description of where the input came from, for the verbose header.</summary>
    public required string Source { get; init; }

    /// <summary>Gets the files skipped under <c>--dir</c> (binary, unreadable or empty), with the reason.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>Gets the characters of text (document headers not counted).</summary>
    public long Chars => Context?.Length ?? Documents!.Sum(d => (long)d.Text.Length);

    /// <summary>Gets the lines of text.</summary>
    public long Lines => Context is not null ? CountLines(Context) : Documents!.Sum(d => CountLines(d.Text));

    private static long CountLines(string text)
    {
        if (text.Length == 0)
        {
            return 0;
        }

        long lines = text.AsSpan().Count('\n');
        return text[^1] == '\n' ? lines : lines + 1;
    }
}

/// <summary>Reads the input sources of the command; every user mistake becomes a <see cref="CliUsageException"/>.</summary>
internal static class InputLoader
{
    /// <summary>The glob used when <c>--dir</c> has no <c>--glob</c>.</summary>
    public const string DefaultGlob = "**/*";

    /// <summary>Directories never read under <c>--dir</c> (build output and version control), at any depth.</summary>
    public static readonly string[] ExcludedDirectories = ["bin", "obj", ".git"];

    private const int BinarySniffBytes = 8192;

    /// <summary>Reads one <c>--file</c>: one file is a single context; several are documents named by the paths as given.</summary>
    public static CliInput LoadFiles(IReadOnlyList<string> paths)
    {
        if (paths.Count == 1)
        {
            string text = ReadTextFile(paths[0]);
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new CliUsageException($"the input is empty: {paths[0]}");
            }

            return new CliInput { Context = text, Source = $"file {paths[0]}" };
        }

        var documents = new List<RlmDocument>(paths.Count);
        foreach (var path in paths)
        {
            documents.Add(new RlmDocument(DocumentName(path), ReadTextFile(path)));
        }

        if (documents.All(d => string.IsNullOrWhiteSpace(d.Text)))
        {
            throw new CliUsageException($"the input is empty: all {paths.Count} files are empty");
        }

        CheckSize(documents.Sum(d => (long)d.Text.Length + d.Name.Length + 10));
        return new CliInput { Documents = documents, Source = $"{paths.Count} files" };
    }

    /// <summary>Reads every text file under <paramref name="directory"/> that matches the globs, sorted ordinally by relative path.</summary>
    public static CliInput LoadDirectory(string directory, IReadOnlyList<string> globs)
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

            matcher.AddInclude(NormalizeGlob(glob));
        }

        foreach (var excluded in ExcludedDirectories)
        {
            matcher.AddExclude($"**/{excluded}/**");
        }

        List<string> relativePaths;
        try
        {
            relativePaths = [.. matcher.Execute(new DirectoryInfoWrapper(new DirectoryInfo(directory))).Files.Select(f => f.Path)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CliUsageException($"cannot read directory {directory}: {OneLine(e.Message)}");
        }

        relativePaths.Sort(StringComparer.Ordinal);
        var documents = new List<RlmDocument>(relativePaths.Count);
        var skipped = new List<string>();
        long total = 0;
        foreach (var relative in relativePaths)
        {
            string full = Path.Combine(directory, relative);
            string? text;
            try
            {
                text = TryReadText(full);
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

            total += text.Length + relative.Length + 10;
            CheckSize(total);
            documents.Add(new RlmDocument(DocumentName(relative), text));
        }

        if (documents.Count == 0)
        {
            string globText = string.Join(", ", globs.Count == 0 ? [DefaultGlob] : globs);
            throw new CliUsageException(relativePaths.Count == 0
                ? $"no files under {directory} match {globText}"
                : $"no readable text file under {directory} matches {globText} ({relativePaths.Count} skipped: binary, unreadable or empty)");
        }

        return new CliInput { Documents = documents, Source = $"{documents.Count} files under {directory}", Skipped = skipped };
    }

    /// <summary>Reads all of standard input as UTF-8.</summary>
    public static async Task<CliInput> LoadStdinAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            // WaitAsync: a read blocked on a pipe or terminal does not observe the token; Ctrl+C must still end the command.
            // RlmTextLoader decodes into the one string the context is, with at most one copy in memory at the peak.
            using var stdin = Console.OpenStandardInput();
            text = await RlmTextLoader.ReadStreamAsync(stdin, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new CliUsageException($"cannot read standard input: {OneLine(e.Message)}");
        }
        catch (ArgumentException)
        {
            throw TooLarge("standard input");
        }

        if (text.AsSpan(0, Math.Min(text.Length, BinarySniffBytes)).Contains('\0'))
        {
            throw new CliUsageException("standard input is not text (it holds NUL bytes)");
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CliUsageException("the input is empty: nothing on standard input");
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

    private static string ReadTextFile(string path)
    {
        if (!File.Exists(path))
        {
            if (path.StartsWith('-') && !Directory.Exists(path))
            {
                // --file takes several paths, so an unknown option after it arrives here as a path.
                throw new CliUsageException($"unrecognized option {path} (see rlm --help)");
            }

            throw new CliUsageException(Directory.Exists(path) ? $"{path} is a directory (use --dir for a directory)" : $"file not found: {path}");
        }

        try
        {
            return TryReadText(path) ?? throw new CliUsageException($"not a text file (binary content): {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CliUsageException($"cannot read {path}: {OneLine(e.Message)}");
        }
    }

    /// <summary>Reads a file as text (UTF-8 unless a byte order mark says otherwise), or <see langword="null"/> when it is binary (a NUL byte in its first 8 KB).</summary>
    private static string? TryReadText(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, FileOptions.SequentialScan);
        var head = new byte[BinarySniffBytes];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var span = head.AsSpan(0, read);
        bool unicodeBom = span.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || span.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]);
        if (!unicodeBom && span.Contains((byte)0))
        {
            return null;
        }

        stream.Position = 0;
        try
        {
            return RlmTextLoader.ReadStreamAsync(stream).GetAwaiter().GetResult(); // a FileStream can seek: read synchronously
        }
        catch (ArgumentException)
        {
            throw TooLarge(path);
        }
    }

    private static void CheckSize(long chars)
    {
        if (chars > RlmCorpus.MaxLength)
        {
            throw TooLarge("the input");
        }
    }

    /// <summary>The one-line message for input beyond <see cref="RlmCorpus.MaxLength"/>.</summary>
    private static CliUsageException TooLarge(string what) =>
        new($"the input is too large for one context: {what} holds more than {RlmCorpus.MaxLength:N0} characters, the most one context can hold (about 1 GB of ASCII text)");

    /// <summary>A document name may not hold a line break; such (rare) characters in a path become <c>?</c>.</summary>
    private static string DocumentName(string path) =>
        path.AsSpan().IndexOfAny('\r', '\n') >= 0 ? path.Replace('\r', '?').Replace('\n', '?') : path;

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
