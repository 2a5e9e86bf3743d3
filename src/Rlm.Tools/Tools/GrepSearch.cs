using System.Text.RegularExpressions;
using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Tools;

/// <summary>Line-oriented regular-expression search over a view, shared by the <c>grep</c> tool and JavaScript's <c>grep()</c>.</summary>
internal static class GrepSearch
{
    /// <summary>Longest line text kept in a hit (characters); the rest is counted.</summary>
    public const int MaxLineChars = 500;

    /// <summary>Builds the regex for a pattern. .NET syntax, <see cref="RegexOptions.Multiline"/> so <c>^</c>/<c>$</c> anchor at lines.</summary>
    /// <exception cref="ArgumentException">The pattern is empty or invalid; the message says why.</exception>
    public static Regex Create(string pattern, bool ignoreCase, TimeSpan timeout)
    {
        if (pattern.Length == 0)
        {
            throw new ArgumentException("the pattern is empty.");
        }

        var options = RegexOptions.Multiline | RegexOptions.CultureInvariant;
        if (ignoreCase)
        {
            options |= RegexOptions.IgnoreCase;
        }

        try
        {
            return new Regex(pattern, options, timeout);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"invalid regular expression: {e.Message}", e);
        }
    }

    /// <summary>
    /// Finds the lines of <paramref name="view"/> that hold a match, in order, keeping the first <paramref name="maxResults"/>
    /// and counting all. Throws <see cref="RegexMatchTimeoutException"/> when the pattern is too slow.
    /// </summary>
    public static (List<GrepHit> Hits, int TotalLines) Search(ContextView view, Regex regex, int maxResults, CancellationToken cancellationToken = default)
    {
        var hits = new List<GrepHit>(Math.Min(maxResults, 256));
        int total = 0;
        int lastLine = -1;
        int checkedAt = 0;
        foreach (var match in regex.EnumerateMatches(view.Span))
        {
            int line = view.LineOfOffset(match.Index);
            if (line == lastLine)
            {
                continue;
            }

            lastLine = line;
            total++;
            if (hits.Count < maxResults)
            {
                var (start, end) = view.LineBounds(line);
                var location = view.Locate(start);
                hits.Add(new GrepHit(line, Excerpt(view.Span[start..end], match.Index - start, MaxLineChars), start, location?.Document, location?.Line));
            }

            if (++checkedAt % 4096 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return (hits, total);
    }

    /// <summary>
    /// A line as a hit shows it: the whole line when it fits in <paramref name="maxChars"/>, otherwise a window of that size
    /// around the match (a fifth before it), with the characters cut on either side counted. A match far into a long line
    /// (a one-line document, minified code) is then still visible.
    /// </summary>
    internal static string Excerpt(ReadOnlySpan<char> line, int matchIndex, int maxChars)
    {
        if (line.Length <= maxChars)
        {
            return line.ToString();
        }

        int start = Math.Clamp(matchIndex - maxChars / 5, 0, line.Length - maxChars);
        int end = start + maxChars;
        string before = start > 0 ? $"…[{start:N0} chars] " : string.Empty;
        string after = end < line.Length ? $" …[+{line.Length - end:N0} chars]" : string.Empty;
        return string.Concat(before, line[start..end], after);
    }
}
