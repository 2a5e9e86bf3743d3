using Rlm.Tools.Context;

namespace Rlm.Tools;

/// <summary>
/// A context prepared once and reused by many queries: the text (documents joined with <c>==&gt; name &lt;==</c>
/// headers), its line index and document table. A host that answers many questions over one corpus (an MCP server, an
/// <see cref="Microsoft.Extensions.AI.AIFunction"/>, many users) builds it once; every query then starts without
/// rescanning the text or allocating a new line index (4 bytes per line). Immutable and safe to share across threads.
/// </summary>
public sealed class RlmCorpus
{
    /// <summary>
    /// The most characters (UTF-16 code units) one context can hold, document headers included: 1,073,741,791, the
    /// longest string .NET allows (a 2 GB object). A 1 GB ASCII file fits; 1.1 GB does not. Larger inputs are refused with
    /// an <see cref="ArgumentException"/> that gives this limit (<see cref="FromDocuments"/>, <see cref="RlmTextLoader"/>).
    /// </summary>
    public const int MaxLength = 0x3FFFFFDF;

    private readonly IReadOnlyList<RlmDocument> _documents;

    private RlmCorpus(ContextText text, IReadOnlyList<RlmDocument> documents, SkipLog? skipped = null)
    {
        Text = text;
        _documents = documents;
        Skipped = skipped?.Listed ?? [];
        SkippedCounts = skipped?.Counts ?? new Dictionary<RlmSkipReason, int>();
    }

    /// <summary>Gets the names of the documents, in order (empty for a corpus made from one string).</summary>
    public IReadOnlyList<string> DocumentNames => [.. _documents.Select(d => d.Name)];

    /// <summary>Gets the documents, in order (empty for a corpus made from one string).</summary>
    public IReadOnlyList<RlmDocument> Documents => _documents;

    /// <summary>
    /// Gets the paths <see cref="FromDirectory(string, RlmDirectoryOptions)"/> left out, with the reason: at most 50 per
    /// reason, in the order met (<see cref="SkippedCounts"/> counts them all). Empty for a corpus not read from a directory.
    /// </summary>
    public IReadOnlyList<RlmSkippedPath> Skipped { get; }

    /// <summary>Gets how many paths <see cref="FromDirectory(string, RlmDirectoryOptions)"/> left out, per reason (only reasons that occurred).</summary>
    public IReadOnlyDictionary<RlmSkipReason, int> SkippedCounts { get; }

    /// <summary>Gets the length of the joined text in characters (UTF-16 code units), document headers included.</summary>
    public int Length => Text.Text.Length;

    /// <summary>Gets the number of lines of the joined text.</summary>
    public int LineCount => Text.LineCount;

    internal ContextText Text { get; }

    /// <summary>Prepares a corpus from one string.</summary>
    /// <param name="text">The text.</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is <see langword="null"/>.</exception>
    public static RlmCorpus FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new RlmCorpus(ContextText.FromString(text), []);
    }

    /// <summary>Prepares a corpus from named documents, joined in order.</summary>
    /// <param name="documents">The documents; at least one.</param>
    /// <exception cref="ArgumentNullException"><paramref name="documents"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">There are no documents, or joined with their headers they hold more than <see cref="MaxLength"/> characters.</exception>
    public static RlmCorpus FromDocuments(IReadOnlyList<RlmDocument> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        if (documents.Count == 0)
        {
            throw new ArgumentException("At least one document is required.", nameof(documents));
        }

        RlmDocument[] copy = [.. documents];
        return new RlmCorpus(ContextText.FromDocuments(copy), copy);
    }

    /// <summary>
    /// Prepares a corpus from one file: one document named by <paramref name="path"/> as given, read as
    /// <see cref="RlmTextLoader.ReadDocument"/> reads it (the encoding detected or guessed, gzip decompressed); its
    /// <see cref="RlmDocument.Decoding"/> says how.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or the text is longer than <see cref="MaxLength"/> characters with its header.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file could not be read, or is compressed in a format other than gzip.</exception>
    /// <exception cref="InvalidDataException">The file is gzip data that is corrupt.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static RlmCorpus FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var document = RlmTextLoader.ReadDocument(path);
        return new RlmCorpus(ContextText.FromDocuments([document]), [document]);
    }

    /// <summary>
    /// Prepares a corpus from the text files under a directory with the default walk (<see cref="RlmDirectoryOptions"/>:
    /// no links followed, hidden and git-ignored paths left out), filtered by <paramref name="globs"/>.
    /// </summary>
    /// <param name="directory">The directory.</param>
    /// <param name="globs">Glob patterns of the files to read (see <see cref="RlmDirectoryOptions.Globs"/>); none means every file.</param>
    /// <exception cref="ArgumentNullException"><paramref name="globs"/> is <see langword="null"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty; a glob is empty, invalid or leaves the directory; or no text file was loaded.</exception>
    /// <exception cref="IOException">The directory itself could not be listed.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory itself may not be listed.</exception>
    public static RlmCorpus FromDirectory(string directory, params string[] globs)
    {
        ArgumentNullException.ThrowIfNull(globs);
        var options = new RlmDirectoryOptions();
        foreach (var glob in globs)
        {
            options.Globs.Add(glob);
        }

        return FromDirectory(directory, options);
    }

    /// <summary>
    /// Prepares a corpus from the text files under a directory, named by their paths relative to it (with <c>/</c>), in
    /// ordinal order: the loader of <c>rlm --dir</c>. By default, as ripgrep: symbolic links are not followed, hidden files
    /// and folders and what <c>.gitignore</c>/<c>.ignore</c> exclude are left out (<paramref name="options"/> changes that).
    /// <c>.git</c> is never read; FIFOs, sockets and devices are never opened. Each file is decoded as
    /// <see cref="RlmTextDecoding"/> says (<see cref="RlmDocument.Decoding"/>), a gzip file decompressed under its own name.
    /// A file that is binary (a NUL byte in its first 8,192 bytes), compressed in another format, empty, unreadable, or does
    /// not fit in what is left of <see cref="MaxLength"/> is skipped; one bad file never fails the load. <see cref="Skipped"/> and <see cref="SkippedCounts"/> say what was left out and why.
    /// </summary>
    /// <param name="directory">The directory (followed when it is itself a link: it was named explicitly).</param>
    /// <param name="options">How to walk it, and the globs.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty; a glob is empty, invalid or leaves the directory; or no text file was loaded.</exception>
    /// <exception cref="IOException">The directory itself could not be listed.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory itself may not be listed.</exception>
    public static RlmCorpus FromDirectory(string directory, RlmDirectoryOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(options);
        return FromDirectoryLoad(DirectoryLoader.Load(directory, options, MaxLength, CancellationToken.None));
    }

    /// <summary>The corpus of a directory load, with what it skipped.</summary>
    internal static RlmCorpus FromDirectoryLoad(DirectoryLoad load)
    {
        RlmDocument[] copy = [.. load.Documents];
        return new RlmCorpus(ContextText.FromDocuments(copy), copy, load.Skipped);
    }

    /// <summary>The documents whose names contain <paramref name="filter"/> (ordinal, case-insensitive), as a new corpus; <see langword="null"/> when none does.</summary>
    internal RlmCorpus? Filter(string filter)
    {
        var chosen = _documents.Where(d => d.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToArray();
        return chosen.Length == 0 ? null : chosen.Length == _documents.Count ? this : FromDocuments(chosen);
    }
}
