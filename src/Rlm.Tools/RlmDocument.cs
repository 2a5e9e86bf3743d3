namespace Rlm.Tools;

/// <summary>
/// One named document of a multi-document context (for example one file of a directory).
/// </summary>
/// <remarks>
/// Documents are joined into one context, each preceded by a header line <c>==&gt; name &lt;==</c>
/// (the convention of <c>head</c> and <c>tail</c> for several files). Tool output names the document and
/// the 1-based line inside it for every hit.
/// </remarks>
public sealed class RlmDocument
{
    /// <summary>Creates a document.</summary>
    /// <param name="name">The document's name as tools show it, usually a relative path. Must not be empty or contain a line break.</param>
    /// <param name="text">The document's text. May be empty.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="text"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, white space, or contains a line break.</exception>
    public RlmDocument(string name, string text)
        : this(name, text, null)
    {
    }

    /// <summary>Creates a document read from a file, with how its bytes were decoded.</summary>
    internal RlmDocument(string name, string text, RlmTextDecoding? decoding)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(text);
        if (name.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("A document name cannot contain a line break.", nameof(name));
        }

        Name = name;
        Text = text;
        Decoding = decoding;
    }

    /// <summary>Gets the document's name.</summary>
    public string Name { get; }

    /// <summary>Gets the document's text.</summary>
    public string Text { get; }

    /// <summary>
    /// Gets how the document's bytes were decoded (encoding, whether it was guessed, bytes replaced, compression) when a
    /// loader read it from a file (<see cref="RlmTextLoader.ReadDocument"/>, <see cref="RlmCorpus.FromFile"/>,
    /// <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/>); <see langword="null"/> for a document made from a string.
    /// </summary>
    public RlmTextDecoding? Decoding { get; }
}
