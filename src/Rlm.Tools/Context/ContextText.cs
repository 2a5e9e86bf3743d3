using System.Text;

namespace Rlm.Tools.Context;

/// <summary>
/// The whole context of one run: a single string, its line index (built once), and the documents it holds.
/// Every <see cref="ContextView"/> of the run points into this one string; nothing copies the text.
/// </summary>
internal sealed class ContextText
{
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

    /// <summary>Joins documents, each preceded by a header line <c>==&gt; name &lt;==</c>.</summary>
    public static ContextText FromDocuments(IReadOnlyList<RlmDocument> documents)
    {
        long total = 0;
        foreach (var d in documents)
        {
            total += d.Name.Length + 10 + d.Text.Length;
        }

        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"The documents hold {total:N0} characters, more than one context can (about {Array.MaxLength:N0}).", nameof(documents));
        }

        var builder = new StringBuilder((int)total);
        var spans = new DocumentSpan[documents.Count];
        for (int i = 0; i < documents.Count; i++)
        {
            var d = documents[i];
            if (builder.Length > 0 && builder[^1] != '\n')
            {
                builder.Append('\n');
            }

            int headerStart = builder.Length;
            builder.Append("==> ").Append(d.Name).Append(" <==\n");
            int textStart = builder.Length;
            builder.Append(d.Text);
            spans[i] = new DocumentSpan(d.Name, headerStart, textStart, builder.Length);
        }

        var context = new ContextText(builder.ToString(), spans);
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
        var starts = new List<int>(Math.Max(16, text.Length / 40)) { 0 };
        var span = text.AsSpan();
        int position = 0;
        while (true)
        {
            int next = span[position..].IndexOf('\n');
            if (next < 0)
            {
                break;
            }

            position += next + 1;
            if (position >= text.Length)
            {
                break;
            }

            starts.Add(position);
        }

        return [.. starts];
    }
}

/// <summary>Where one document sits in the joined context (offsets in characters, 0-based, header line included from <see cref="HeaderStart"/>).</summary>
internal readonly record struct DocumentSpan(string Name, int HeaderStart, int TextStart, int End)
{
    /// <summary>Gets the 0-based context line of the document's first text line.</summary>
    public int FirstTextLine { get; init; }
}
