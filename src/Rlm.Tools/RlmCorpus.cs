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

    private RlmCorpus(ContextText text, IReadOnlyList<RlmDocument> documents)
    {
        Text = text;
        _documents = documents;
    }

    /// <summary>Gets the names of the documents, in order (empty for a corpus made from one string).</summary>
    public IReadOnlyList<string> DocumentNames => [.. _documents.Select(d => d.Name)];

    /// <summary>Gets the documents, in order (empty for a corpus made from one string).</summary>
    public IReadOnlyList<RlmDocument> Documents => _documents;

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
    /// Prepares a corpus from the text files under a directory, named by their paths relative to it (with <c>/</c>), in
    /// ordinal order: the same loader as <c>rlm --dir</c>. <c>bin</c>, <c>obj</c> and <c>.git</c> directories are not read;
    /// binary files (a NUL byte in their first 8,192 bytes), empty and unreadable files and unreadable folders are skipped.
    /// </summary>
    /// <param name="directory">The directory.</param>
    /// <param name="globs">
    /// Glob patterns of the files to read (Microsoft.Extensions.FileSystemGlobbing); none means <c>**/*</c>. A pattern
    /// without <c>/</c> matches at any depth (<c>*.cs</c> means <c>**/*.cs</c>); a pattern with a <c>..</c> segment is refused.
    /// </param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="ArgumentException">A glob is empty, invalid or leaves the directory; no text file matched; or the files hold more than <see cref="MaxLength"/> characters.</exception>
    /// <exception cref="IOException">The directory itself could not be listed.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory itself may not be listed.</exception>
    public static RlmCorpus FromDirectory(string directory, params string[] globs)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(globs);
        return FromDocuments(DirectoryLoader.Load(directory, globs, MaxLength, CancellationToken.None).Documents);
    }

    /// <summary>The documents whose names contain <paramref name="filter"/> (ordinal, case-insensitive), as a new corpus; <see langword="null"/> when none does.</summary>
    internal RlmCorpus? Filter(string filter)
    {
        var chosen = _documents.Where(d => d.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToArray();
        return chosen.Length == 0 ? null : chosen.Length == _documents.Count ? this : FromDocuments(chosen);
    }
}
