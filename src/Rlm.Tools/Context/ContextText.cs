namespace Rlm.Tools.Context;

/// <summary>
/// The whole context of one run: a single string, its line index (built once), and the documents it holds.
/// Every <see cref="ContextView"/> of the run points into this one string; nothing copies the text.
/// </summary>
internal sealed class ContextText
{
    private const string HeaderPrefix = "==> ";
    private const string HeaderSuffix = " <==\n";

    private readonly int[] _lineStarts;
    private readonly DocumentSpan[] _documents;

    private ContextText(string text, DocumentSpan[] documents)
    {
        Text = text;
        _documents = documents;
        _lineStarts = BuildLineIndex(text);
    }

    /// <summary>Gets the text.</summary>
    public string Text { get; }

    /// <summary>Gets the number of lines (an empty text has one empty line; a final line break does not start a new line).</summary>
    public int LineCount => _lineStarts.Length;

    /// <summary>Gets the documents, in order; empty for a plain single-string context.</summary>
    public IReadOnlyList<DocumentSpan> Documents => _documents;

    public static ContextText FromString(string text) => new(text, []);

    /// <summary>Whether <paramref name="line"/> (without its line break) looks like a document's header line, which belongs to no document.</summary>
    public static bool IsHeaderLine(string line) =>
        line.StartsWith(HeaderPrefix, StringComparison.Ordinal) && line.EndsWith(HeaderSuffix.TrimEnd('\n'), StringComparison.Ordinal);

    /// <summary>Joins documents, each preceded by a header line <c>==&gt; name &lt;==</c>.</summary>
    public static ContextText FromDocuments(IReadOnlyList<RlmDocument> documents)
    {
        // First pass: where every part goes, so the joined text is built in one exact allocation.
        var spans = new DocumentSpan[documents.Count];
        long length = 0;
        bool endsWithBreak = true;
        for (int i = 0; i < documents.Count; i++)
        {
            var d = documents[i];
            if (!endsWithBreak)
            {
                length++; // a line break before the header
            }

            long headerStart = length;
            length += HeaderPrefix.Length + d.Name.Length + HeaderSuffix.Length;
            long textStart = length;
            length += d.Text.Length;
            if (length > RlmCorpus.MaxLength)
            {
                throw new ArgumentException($"The documents are too large for one context: {length:N0} characters or more with their headers; one context holds at most {RlmCorpus.MaxLength:N0} characters (the longest .NET string).", nameof(documents));
            }

            spans[i] = new DocumentSpan(d.Name, (int)headerStart, (int)textStart, (int)length);
            endsWithBreak = d.Text.Length > 0 ? d.Text[^1] == '\n' : true;
        }

        string joined = string.Create((int)length, (documents, spans), static (buffer, state) =>
        {
            var (docs, parts) = state;
            for (int i = 0; i < docs.Count; i++)
            {
                if (i > 0 && parts[i].HeaderStart > parts[i - 1].End)
                {
                    buffer[parts[i - 1].End] = '\n';
                }

                var header = buffer[parts[i].HeaderStart..parts[i].TextStart];
                HeaderPrefix.AsSpan().CopyTo(header);
                docs[i].Name.AsSpan().CopyTo(header[HeaderPrefix.Length..]);
                HeaderSuffix.AsSpan().CopyTo(header[(HeaderPrefix.Length + docs[i].Name.Length)..]);
                docs[i].Text.AsSpan().CopyTo(buffer[parts[i].TextStart..]);
            }
        });

        var context = new ContextText(joined, spans);
        for (int i = 0; i < spans.Length; i++)
        {
            spans[i] = spans[i] with { FirstTextLine = context.LineOfOffset(spans[i].TextStart) };
        }

        return context;
    }

    /// <summary>Gets the 0-based line that holds the character at <paramref name="offset"/> (an offset equal to the length maps to the last line).</summary>
    public int LineOfOffset(int offset)
    {
        int index = Array.BinarySearch(_lineStarts, offset);
        return index >= 0 ? index : ~index - 1;
    }

    /// <summary>Gets the offset of the first character of a 0-based line.</summary>
    public int LineStart(int line) => _lineStarts[line];

    /// <summary>Gets the offset just past the last character of a 0-based line, excluding its line break (<c>\n</c> or <c>\r\n</c>).</summary>
    public int LineEnd(int line)
    {
        int start = _lineStarts[line];
        int end = line + 1 < _lineStarts.Length ? _lineStarts[line + 1] - 1 : Text.Length;
        if (end > start && line + 1 == _lineStarts.Length && Text[end - 1] == '\n')
        {
            end--;
        }

        if (end > start && Text[end - 1] == '\r')
        {
            end--;
        }

        return end;
    }

    /// <summary>Gets the document that holds <paramref name="offset"/>, or <see langword="null"/> for none.</summary>
    public DocumentSpan? DocumentAt(int offset)
    {
        if (_documents.Length == 0)
        {
            return null;
        }

        int lo = 0, hi = _documents.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_documents[mid].HeaderStart <= offset)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        var doc = _documents[lo];
        return offset >= doc.HeaderStart ? doc : null;
    }

    private static int[] BuildLineIndex(string text)
    {
        // Count first (vectorized), then fill an array of the exact size: the index is the only allocation.
        var span = text.AsSpan();
        int breaks = span.Count('\n');
        if (breaks > 0 && span[^1] == '\n')
        {
            breaks--; // a final line break does not start a line
        }

        var starts = new int[breaks + 1];
        int position = 0;
        for (int line = 1; line < starts.Length; line++)
        {
            position += span[position..].IndexOf('\n') + 1;
            starts[line] = position;
        }

        return starts;
    }
}

/// <summary>Where one document sits in the joined context (offsets in characters, 0-based, header line included from <see cref="HeaderStart"/>).</summary>
internal readonly record struct DocumentSpan(string Name, int HeaderStart, int TextStart, int End)
{
    /// <summary>Gets the 0-based context line of the document's first text line.</summary>
    public int FirstTextLine { get; init; }
}
