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

    /// <summary>Characters one regular-expression pass covers before the search checks its deadline and cancellation.</summary>
    internal const int SegmentChars = 64 * 1024;

    /// <summary>
    /// Finds the lines of <paramref name="view"/> that hold a match of <paramref name="pattern"/>, in order, keeping the
    /// first <paramref name="maxResults"/> and counting all.
    /// </summary>
    /// <remarks>
    /// <paramref name="budget"/> bounds the <b>whole</b> search, not each match: the view is scanned in segments of about
    /// <see cref="SegmentChars"/> characters that end at line breaks; before each segment the search checks
    /// <paramref name="cancellationToken"/> and the deadline, and the regex it runs never has a match timeout longer than
    /// the time left, so the search ends within the budget plus one segment's overhead, and within one segment's scan
    /// (well under 100 ms for any pattern that does not backtrack catastrophically) of cancellation. A match cannot span
    /// two segments: grep is line-oriented, so only a pattern that crosses line breaks can notice.
    /// </remarks>
    /// <exception cref="ArgumentException">The pattern is empty or invalid; the message says why.</exception>
    /// <exception cref="GrepTimeoutException">The search took longer than <paramref name="budget"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static (List<GrepHit> Hits, int TotalLines) Search(ContextView view, string pattern, bool ignoreCase, TimeSpan budget, int maxResults, CancellationToken cancellationToken = default)
    {
        var regex = Create(pattern, ignoreCase, budget);
        var hits = new List<GrepHit>(Math.Min(maxResults, 256));
        int total = 0;
        int lastLine = -1;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var span = view.Span;
        int segmentStart = 0;
        while (segmentStart < span.Length || (segmentStart == 0 && span.Length == 0))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = budget - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw GrepTimeoutException.Overall(budget, segmentStart, span.Length);
            }

            if (left < regex.MatchTimeout * 0.9)
            {
                // Never let one regex operation outlive the search's deadline.
                regex = Create(pattern, ignoreCase, left);
            }

            int segmentEnd = Math.Min(span.Length, segmentStart + SegmentChars);
            if (segmentEnd < span.Length)
            {
                int newline = span[segmentEnd..].IndexOf('\n');
                segmentEnd = newline < 0 ? span.Length : segmentEnd + newline + 1;
            }

            long segmentStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            int resumeAt = -1;
            try
            {
                foreach (var match in regex.EnumerateMatches(span[segmentStart..segmentEnd]))
                {
                    int index = segmentStart + match.Index;
                    int line = view.LineOfOffset(index);
                    if (line == lastLine)
                    {
                        continue;
                    }

                    lastLine = line;
                    total++;
                    var (start, end) = view.LineBounds(line);
                    if (hits.Count < maxResults)
                    {
                        var location = view.Locate(start);
                        hits.Add(new GrepHit(line, Excerpt(span[start..end], index - start, MaxLineChars), start, location?.Document, location?.Line));
                    }

                    // Slow matches add up: past the deadline stop, and near it go on from the next line with a regex
                    // whose timeout is what is left (one running match cannot be shortened).
                    left = budget - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                    if (left <= TimeSpan.Zero)
                    {
                        throw GrepTimeoutException.Overall(budget, index, span.Length);
                    }

                    if (left < regex.MatchTimeout * 0.9 && end + 1 < segmentEnd)
                    {
                        resumeAt = Math.Min(segmentEnd, end + 1);
                        break;
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }
            }
            catch (RegexMatchTimeoutException)
            {
                var spent = System.Diagnostics.Stopwatch.GetElapsedTime(segmentStarted);
                throw spent >= budget / 2
                    ? GrepTimeoutException.Backtracking(budget)
                    : GrepTimeoutException.Overall(budget, segmentStart, span.Length);
            }

            if (resumeAt >= 0)
            {
                segmentStart = resumeAt;
                continue;
            }

            if (span.Length == 0)
            {
                break;
            }

            segmentStart = segmentEnd;
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

/// <summary>A grep search ran past its time budget; the message says whether one pattern match or the whole scan was slow.</summary>
internal sealed class GrepTimeoutException(string message) : Exception(message)
{
    public static GrepTimeoutException Backtracking(TimeSpan budget) =>
        new($"the pattern ran too long (over the {Seconds(budget)} time limit of a search) on one stretch of text: catastrophic backtracking? Use a simpler pattern: avoid nested quantifiers like (a+)+ and prefer literal text.");

    public static GrepTimeoutException Overall(TimeSpan budget, int scanned, int length) =>
        new(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"the search ran too long: it hit its {Seconds(budget)} time limit after {scanned:N0} of {length:N0} characters. Use a more selective pattern, or search a slice (peek/chunk) instead of the whole context."));

    private static string Seconds(TimeSpan value) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.##} s");
}
