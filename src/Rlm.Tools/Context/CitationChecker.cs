using System.Globalization;
using System.Text.RegularExpressions;

namespace Rlm.Tools.Context;

/// <summary>
/// Finds the citations of an answer in the one form the root prompt asks for (<c>document:line</c> or <c>(line N)</c>,
/// 1-based, a range <c>N-M</c> allowed, optionally followed by a quoted span) and checks each against the context.
/// Hand-written: no package parses this house form, and the check needs the run's own line index.
/// </summary>
internal static partial class CitationChecker
{
    /// <summary>The longest one whitespace-tolerant quote search may take.</summary>
    private static readonly TimeSpan QuoteSearchTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Checks every citation of <paramref name="answer"/> against <paramref name="context"/>, in the order they appear.</summary>
    public static IReadOnlyList<RlmCitation> Check(string answer, ContextText context)
    {
        var found = new List<RlmCitation>();
        var documents = new Dictionary<string, DocumentSpan>(StringComparer.Ordinal);
        foreach (var doc in context.Documents)
        {
            documents.TryAdd(doc.Name, doc);
        }

        foreach (Match m in ContextLineCitation().Matches(answer))
        {
            int line = Number(m.Groups["line"].Value);
            int last = m.Groups["end"].Success ? Number(m.Groups["end"].Value) : line;
            string? quote = QuoteAfter(answer, m.Index + m.Length);
            found.Add(CheckContextLine(context, line, last, quote) with { Text = m.Value, AnswerOffset = m.Index });
        }

        foreach (Match m in DocumentCitation().Matches(answer))
        {
            string name = m.Groups["doc"].Value;
            bool hasLine = m.Groups["line"].Success;
            if (!hasLine)
            {
                name = name.TrimEnd('.', ':');
            }

            string? quote = QuoteAfter(answer, m.Index + m.Length);
            string text = hasLine ? m.Value : name;
            if (documents.TryGetValue(name, out var doc))
            {
                if (!hasLine && quote is null)
                {
                    continue; // a document named in passing cites nothing
                }

                int? line = hasLine ? Number(m.Groups["line"].Value) : null;
                int? last = m.Groups["end"].Success ? Number(m.Groups["end"].Value) : line;
                found.Add(CheckDocument(context, doc, line, last, quote) with { Text = text, AnswerOffset = m.Index });
            }
            else if (hasLine && documents.Count > 0 && LooksLikePath(name))
            {
                found.Add(new RlmCitation(name, Number(m.Groups["line"].Value), quote, null, false, UnknownDocument(name, documents.Keys))
                {
                    Text = text,
                    AnswerOffset = m.Index,
                });
            }
        }

        found.Sort((a, b) => a.AnswerOffset.CompareTo(b.AnswerOffset));
        return found;
    }

    private static RlmCitation CheckContextLine(ContextText context, int line, int last, string? quote)
    {
        if (line < 1 || line > context.LineCount || last < line)
        {
            return new RlmCitation(null, line, quote, null, false,
                Invariant($"the context has {context.LineCount:N0} lines; line {(line < 1 || line > context.LineCount ? line : last)} does not exist"));
        }

        last = Math.Min(last, context.LineCount);
        return CheckSpan(context, null, line, quote, context.LineStart(line - 1), context.LineEnd(last - 1), 0,
            Invariant($"line {line}")) with { Source = CitedLines.From(context, null, line, line - 1, last - 1) };
    }

    private static RlmCitation CheckDocument(ContextText context, DocumentSpan doc, int? line, int? last, string? quote)
    {
        int lines = DocumentLines(context, doc);
        if (line is not { } first)
        {
            // A document and a quote: the quote anywhere in the document; its text is the line where the quote starts.
            var found = CheckSpan(context, doc.Name, null, quote, doc.TextStart, doc.End, doc.TextStart, doc.Name);
            if (found.Offset is not { } at)
            {
                return found;
            }

            int where = context.LineOfOffset(doc.TextStart + at);
            return found with { Source = CitedLines.From(context, doc.Name, where - doc.FirstTextLine + 1, where, where) };
        }

        int end = last ?? first;
        if (first < 1 || first > lines || end < first)
        {
            return new RlmCitation(doc.Name, first, quote, null, false,
                Invariant($"{doc.Name} has {lines:N0} line{(lines == 1 ? "" : "s")}; line {(first < 1 || first > lines ? first : end)} does not exist"));
        }

        end = Math.Min(end, lines);
        return CheckSpan(context, doc.Name, first, quote, context.LineStart(doc.FirstTextLine + first - 1),
            context.LineEnd(doc.FirstTextLine + end - 1), doc.TextStart, Invariant($"line {first} of {doc.Name}"))
            with { Source = CitedLines.From(context, doc.Name, first, doc.FirstTextLine + first - 1, doc.FirstTextLine + end - 1) };
    }

    /// <summary>Whether the quote is in <c>[start, end)</c> of the context; offsets are reported relative to <paramref name="origin"/>.</summary>
    private static RlmCitation CheckSpan(ContextText context, string? document, int? line, string? quote, int start, int end, int origin, string where)
    {
        if (quote is null)
        {
            return new RlmCitation(document, line, null, start - origin, true, null);
        }

        int at = Find(context.Text.AsSpan(start, end - start), quote);
        if (at >= 0)
        {
            return new RlmCitation(document, line, quote, start + at - origin, true, null);
        }

        // Say where the quote is, if anywhere: the model (in Repair) and the reader can act on that.
        int elsewhere = Find(context.Text, quote);
        string reason = elsewhere < 0
            ? "the quote occurs nowhere in the context"
            : Invariant($"the quote is not in {where}; it occurs at {Locate(context, elsewhere)}");
        return new RlmCitation(document, line, quote, null, false, reason);
    }

    private static string Locate(ContextText context, int offset)
    {
        int line = context.LineOfOffset(offset);
        return context.DocumentAt(offset) is { } doc && offset >= doc.TextStart
            ? Invariant($"{doc.Name}:{line - doc.FirstTextLine + 1}")
            : Invariant($"(line {line + 1})");
    }

    /// <summary>Where <paramref name="quote"/> starts in <paramref name="text"/>: exactly, else with every run of whitespace taken as one space; -1 when nowhere.</summary>
    /// <remarks>
    /// The whitespace-tolerant search is a regular expression of the quote's words joined by <c>\s+</c>, run over the span:
    /// nothing is copied, so a quote checked against a context of many millions of characters costs one scan.
    /// </remarks>
    internal static int Find(ReadOnlySpan<char> text, string quote)
    {
        int exact = text.IndexOf(quote, StringComparison.Ordinal);
        if (exact >= 0 || quote.Length == 0)
        {
            return exact;
        }

        string[] words = quote.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return -1;
        }

        var loose = new Regex(string.Join(@"\s+", words.Select(Regex.Escape)), RegexOptions.CultureInvariant, QuoteSearchTimeout);
        try
        {
            foreach (var match in loose.EnumerateMatches(text))
            {
                return match.Index;
            }
        }
        catch (RegexMatchTimeoutException)
        {
            // A pathological text (huge runs of whitespace between repeated words): reported as not found.
        }

        return -1;
    }

    private static int DocumentLines(ContextText context, DocumentSpan doc) =>
        doc.End <= doc.TextStart ? 0 : context.LineOfOffset(doc.End - 1) - doc.FirstTextLine + 1;

    /// <summary>The quoted span right after a citation (<c>"…"</c>, <c>“…”</c> or <c>`…`</c>, after spaces, a colon or a dash), or null.</summary>
    private static string? QuoteAfter(string answer, int position)
    {
        var m = QuoteAt().Match(answer, position);
        return m.Success && m.Index == position ? m.Groups["q"].Value : null;
    }

    /// <summary>A name cited with a line that is no document: only one that looks like a path counts (not <c>10:30</c> or <c>Note:3</c>).</summary>
    private static bool LooksLikePath(string name) =>
        (name.Contains('.') || name.Contains('/')) && name.Any(char.IsLetter) && !name.StartsWith("//", StringComparison.Ordinal);

    private static string UnknownDocument(string name, IEnumerable<string> documents)
    {
        var like = documents.Where(d => d.EndsWith("/" + name, StringComparison.Ordinal)).Take(2).ToList();
        return like.Count == 1
            ? $"no document is named {name}; did you mean {like[0]}?"
            : $"no document is named {name}";
    }

    private static int Number(string digits) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : int.MaxValue;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\(\s*line\s+(?<line>\d{1,10})(?:\s*[-–]\s*(?<end>\d{1,10}))?\s*\)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ContextLineCitation();

    // A path-like token, optionally with :line or :line-line. The look-behind keeps a match from starting mid-token.
    [GeneratedRegex(@"(?<![\w./\\@+-])(?<doc>[\w.][\w./\\@+-]*)(?::(?<line>\d{1,10})(?:[-–](?<end>\d{1,10}))?(?!\d))?", RegexOptions.CultureInvariant)]
    private static partial Regex DocumentCitation();

    [GeneratedRegex("\\G[ \\t]*(?:[:\\-–—][ \\t]*)?(?:\"(?<q>[^\"\\n]{1,2000})\"|“(?<q>[^”\\n]{1,2000})”|`(?<q>[^`\\n]{1,2000})`)", RegexOptions.CultureInvariant)]
    private static partial Regex QuoteAt();
}
