using Rlm.Tools.Context;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Rlm.Tools.Tools;

namespace Rlm.Tools;

// The final answer of a root session: the grep hits ranked as evidence and the workers' findings, each cited file:line.
public sealed partial class OfflineChatClient
{
    private const string NotLocated = "not located by grep";

    /// <summary>The start of a reported line, without the '…' of a cut, to grep for.</summary>
    private static string LocatorText(string line)
    {
        string text = line.Split('…', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).OrderByDescending(p => p.Length).FirstOrDefault() ?? line;
        return text.Length > 120 ? text[..120] : text;
    }

    /// <summary>
    /// The workers' lines, each cited as <c>document:line</c> (1-based; <c>line N</c> of the context without documents) by
    /// finding it among the grep hits inside the worker's slice, once each however many workers reported it.
    /// </summary>
    private static List<(string Cite, string Text)> Findings(List<ToolOutput> results)
    {
        var hits = results.OfType<GrepResult>().SelectMany(g => g.Matches.Select(m => m.Hit)).ToList();
        var findings = new List<(string Cite, string Text)>();
        foreach (var result in results.OfType<SubLlmResult>())
        {
            if (result.Answer is null || IsNotFound(result.Answer))
            {
                continue;
            }

            // A worker joins the lines it picked with " | " (Extract).
            foreach (string line in StripPrefix(result.Answer).Split(" | ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var hit = hits.FirstOrDefault(h => h.Offset >= result.Start && h.Offset < result.End && SameLine(h.Text, line));
                if (hit is not null && IsDocumentHeader(hit.Document, hit.Text, hits.Any(h => h.Document is not null)))
                {
                    continue;
                }

                string cite = hit is null ? NotLocated
                    : hit.Document is not null ? string.Create(CultureInfo.InvariantCulture, $"{hit.Document}:{hit.DocumentLine}")
                    : string.Create(CultureInfo.InvariantCulture, $"line {hit.Line + 1}");
                if (!findings.Contains((cite, line)))
                {
                    findings.Add((cite, line));
                }
            }
        }

        return findings;

        // A grep hit's text may be an excerpt of a long line, cut with '…' around the match.
        static bool SameLine(string hitText, string line)
        {
            string a = TextLimits.OneLine(hitText, int.MaxValue).Trim();
            string b = TextLimits.OneLine(line, int.MaxValue).Trim();
            return a == b || a.Split('…', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(p => p.Length >= 8).Any(p => b.Contains(p, StringComparison.Ordinal))
                || (b.Length >= 8 && a.Contains(b.TrimEnd('…'), StringComparison.Ordinal));
        }
    }

    private static string Compose(string question, List<Hit> evidence, List<(string Cite, string Text)> findings)
    {
        var text = new StringBuilder();
        text.Append(AnswerPrefix).Append(' ');
        if (evidence.Count == 0 && findings.All(f => IsNotFound(f.Text)))
        {
            text.Append(CultureInfo.InvariantCulture, $"No line of the context matches the keywords of \"{TextLimits.OneLine(question, 200)}\".");
            return text.ToString();
        }

        text.Append(CultureInfo.InvariantCulture, $"Best-matching lines for \"{TextLimits.OneLine(question, 200)}\":\n");
        foreach (var hit in evidence.Take(EvidenceLines))
        {
            // Line numbers for people are 1-based, as grep -n and editors count: document:line as the grep tool gives it,
            // else the context line grep gave (0-based, the tools' convention) plus one.
            text.Append(CultureInfo.InvariantCulture, $"- {(hit.Document is not null ? Cite(hit) : $"({Cite(hit)})")}: ");

            // The whole excerpt: grep centred it on the match, and any shorter cut could lose the match again.
            text.Append(TextLimits.OneLine(hit.Text, GrepSearch.MaxExcerptChars)).Append('\n');
        }

        // A worker's line already cited above is not repeated: it is named as confirmed.
        var shown = evidence.Take(EvidenceLines).Select(Cite).ToHashSet(StringComparer.Ordinal);
        var confirmed = findings.Where(f => shown.Contains(f.Cite)).Select(f => f.Cite).Distinct().ToList();
        var more = findings.Where(f => !shown.Contains(f.Cite)).ToList();
        if (confirmed.Count > 0 || more.Count > 0)
        {
            text.Append("Worker findings:\n");
            if (confirmed.Count > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"- confirm {string.Join(", ", confirmed)}\n");
            }

            foreach (var (cite, finding) in more)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {cite}: {TextLimits.OneLine(finding, 400)}\n");
            }
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>The grep hits of the history, best first: each keyword a line holds adds log(1 + lines / lines with that keyword).</summary>
    private static List<Hit> Evidence(List<ToolOutput> results, List<string> keywords, int total)
    {
        var hits = new Dictionary<int, Hit>();
        var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var grep in results.OfType<GrepResult>())
        {
            counts[Regex.Unescape(grep.Pattern)] = grep.TotalLines;
            foreach (var hit in grep.Matches.Select(m => m.Hit))
            {
                hits.TryAdd(hit.Line, new Hit(hit.Line, hit.Offset, hit.Document, hit.DocumentLine ?? 0, hit.Text));
            }
        }

        bool hasDocuments = hits.Values.Any(h => h.Document is not null);
        foreach (var header in hits.Values.Where(h => IsDocumentHeader(h.Document, h.Text, hasDocuments)).ToList())
        {
            hits.Remove(header.Line);
        }

        foreach (var key in keywords.Where(k => !counts.ContainsKey(k)))
        {
            counts[key] = 0;
        }

        var ranked = hits.Values
            .Select(h => h with { Score = Score(h.Text, keywords, counts, total) + (h.Document is not null ? Score(h.Document, keywords, counts, total) : 0) })
            .Where(h => h.Score > 0)
            .OrderByDescending(h => h.Score).ThenBy(h => h.Line)
            .ToList();

        // Keep the strong hits only: a line scoring under half the best one matched only common words.
        double best = ranked.Count > 0 ? ranked[0].Score : 0;
        return [.. ranked.Where(h => h.Score >= best / 2)];
    }

    /// <summary>
    /// Whether a hit is the header line of a document (<c>==&gt; name &lt;==</c>): it names a file and is no line of one, so
    /// it is neither evidence nor a citation. Only in a context of documents, where no other line is outside a document.
    /// </summary>
    private static bool IsDocumentHeader(string? document, string text, bool contextHasDocuments) =>
        contextHasDocuments && document is null && ContextText.IsHeaderLine(text);

    private static double Score(string line, List<string> keywords, Dictionary<string, int> counts, int lines)
    {
        double score = 0;
        foreach (var keyword in keywords)
        {
            if (line.Contains(keyword, StringComparison.OrdinalIgnoreCase))
            {
                score += Math.Log(1 + (double)lines / Math.Max(1, counts.GetValueOrDefault(keyword)));
            }
        }

        return score;
    }

    private static string Cite(Hit hit) => hit.Document is not null
        ? string.Create(CultureInfo.InvariantCulture, $"{hit.Document}:{hit.DocumentLine}")
        : string.Create(CultureInfo.InvariantCulture, $"line {hit.Line + 1}");

    private sealed record Hit(int Line, int Offset, string? Document, int DocumentLine, string Text, double Score = 0);
}
