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
                hits.Add(new GrepHit(line, TextLimits.Line(view.Span[start..end], MaxLineChars), start, location?.Document, location?.Line));
            }

            if (++checkedAt % 4096 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return (hits, total);
    }
}
