using System.Globalization;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;

namespace Rlm.Tools.Context;

/// <summary>The documents read from a directory, and what was skipped (with the reason).</summary>
/// <param name="Documents">The text files, named by relative path with <c>/</c>, in ordinal order.</param>
/// <param name="Skipped">Binary, empty and unreadable files and unreadable folders, each with the reason.</param>
internal sealed record DirectoryLoad(IReadOnlyList<RlmDocument> Documents, IReadOnlyList<string> Skipped);

/// <summary>
/// Reads the text files under a directory as named documents: the one loader behind <see cref="RlmCorpus.FromDirectory"/>,
/// <c>rlm --dir</c>, <c>rlm chat --dir</c> and <c>rlm mcp --dir</c>. Every mistake of the caller (a bad glob, nothing
/// matched, too much text) is an <see cref="ArgumentException"/> whose message can be shown as it is.
/// </summary>
internal static class DirectoryLoader
{
    /// <summary>The glob used when none is given.</summary>
    public const string DefaultGlob = "**/*";

    /// <summary>Directories never read (build output and version control), at any depth.</summary>
    public static readonly string[] ExcludedDirectories = ["bin", "obj", ".git"];

    /// <summary>
    /// Reads every text file under <paramref name="directory"/> that matches <paramref name="globs"/> (none:
    /// <see cref="DefaultGlob"/>), outside <see cref="ExcludedDirectories"/>, sorted ordinally by relative path. Binary,
    /// empty and unreadable files and unreadable folders are skipped and listed. A glob without <c>/</c> matches at any
    /// depth; a glob with a <c>..</c> segment is refused.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="ArgumentException">A glob is empty, invalid or leaves the directory; no text file matched; or the documents, joined with their headers, hold more than <paramref name="maxLength"/> characters.</exception>
    /// <exception cref="IOException">The directory itself cannot be listed.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory itself may not be listed.</exception>
    public static DirectoryLoad Load(string directory, IReadOnlyList<string> globs, long maxLength, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"directory not found: {directory}");
        }

        var matcher = new Matcher(StringComparison.Ordinal);
        foreach (var glob in globs.Count == 0 ? [DefaultGlob] : globs)
        {
            if (string.IsNullOrWhiteSpace(glob))
            {
                throw new ArgumentException("a glob pattern is empty: give one such as \"*.cs\"");
            }

            string pattern = NormalizeGlob(glob);
            if (pattern.Split('/').Contains(".."))
            {
                throw new ArgumentException($"glob {glob}: a pattern may not contain '..'; it matches files under the directory only");
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
        catch (ArgumentException e)
        {
            // Microsoft.Extensions.FileSystemGlobbing rejects some patterns only when it runs them.
            throw new ArgumentException($"invalid glob pattern: {TextLimits.OneLine(e.Message, int.MaxValue)}", e);
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
                continue; // defence in depth: nothing outside the directory is read, whatever a pattern resolves to
            }

            string name = DocumentName(relative);
            long budget = maxLength - total - HeaderChars(name);
            if (budget < 0)
            {
                throw new ArgumentException(TooLargeMessage($"the files under {directory}", maxLength));
            }

            string? text;
            try
            {
                using var stream = TextFileReader.OpenRead(full);
                text = TextFileReader.ReadText(stream, budget, cancellationToken);
            }
            catch (ArgumentException)
            {
                throw new ArgumentException(TooLargeMessage($"the files under {directory}", maxLength));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
            {
                skipped.Add($"{relative} (unreadable: {TextLimits.OneLine(e.Message, int.MaxValue)})");
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
            throw new ArgumentException(relativePaths.Count == 0
                ? $"no files under {directory} match {globText}{(skipped.Count > 0 ? $" ({skipped.Count} unreadable folder{(skipped.Count == 1 ? "" : "s")} skipped)" : "")}"
                : $"no readable text file under {directory} matches {globText} ({skipped.Count} skipped: binary, unreadable or empty)");
        }

        return new DirectoryLoad(documents, skipped);
    }

    /// <summary>
    /// A glob without a <c>/</c> matches file names at any depth (<c>*.cs</c> means <c>**/*.cs</c>), as in <c>.gitignore</c>;
    /// a leading <c>./</c> is dropped.
    /// </summary>
    public static string NormalizeGlob(string glob)
    {
        string pattern = glob.Trim().Replace('\\', '/');
        while (pattern.StartsWith("./", StringComparison.Ordinal))
        {
            pattern = pattern[2..];
        }

        return pattern.Contains('/', StringComparison.Ordinal) ? pattern.TrimStart('/') : "**/" + pattern;
    }

    /// <summary>The message for an input over <paramref name="maxLength"/> characters.</summary>
    public static string TooLargeMessage(string what, long maxLength = RlmCorpus.MaxLength) => string.Create(CultureInfo.InvariantCulture,
        $"the input is too large for one context: {what} hold{(what.StartsWith("the ", StringComparison.Ordinal) ? "" : "s")} more than {maxLength:N0} characters (the longest .NET string, document headers included)");

    /// <summary>The characters a document adds to the joined context besides its text: its header line and, at most, one line break.</summary>
    public static long HeaderChars(string name) => "==> ".Length + name.Length + " <==\n".Length + 1;

    /// <summary>A document name may not hold a line break; such (rare) characters in a path become <c>?</c>.</summary>
    public static string DocumentName(string path) =>
        path.AsSpan().IndexOfAny('\r', '\n') >= 0 ? path.Replace('\r', '?').Replace('\n', '?') : path;

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
                skipped.Add($"{relative}/ (unreadable folder: {TextLimits.OneLine(e.Message, int.MaxValue)})");
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
