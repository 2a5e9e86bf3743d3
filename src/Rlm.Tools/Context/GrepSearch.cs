using System.Text.RegularExpressions;

namespace Rlm.Tools.Context;

/// <summary>Line-oriented regular-expression search over a view, shared by the <c>grep</c> tool and JavaScript's <c>grep()</c>.</summary>
internal static class GrepSearch
{
    /// <summary>Longest line text kept in a hit (characters); the rest is counted.</summary>
    public const int MaxLineChars = 500;

    /// <summary>The longest text a hit can have: <see cref="MaxLineChars"/> plus the two counts of what was cut.</summary>
    public const int MaxExcerptChars = MaxLineChars + 50;

    /// <summary>Builds the regex for a pattern. .NET syntax, <see cref="RegexOptions.Multiline"/> so <c>^</c>/<c>$</c> anchor at lines.</summary>
    /// <exception cref="ArgumentException">The pattern is empty or invalid; the message says why.</exception>
    public static Regex Create(string pattern, bool ignoreCase, TimeSpan timeout) => Create(pattern, ignoreCase, timeout, compiled: false);

    /// <param name="pattern">The pattern.</param>
    /// <param name="ignoreCase">Whether to ignore case (culture-invariant).</param>
    /// <param name="timeout">The match timeout.</param>
    /// <param name="compiled">
    /// Whether to compile the regex to IL (<see cref="RegexOptions.Compiled"/>): about a millisecond more to build, and
    /// several times faster per candidate match than the interpreter (which also starts cold, unoptimized by the JIT).
    /// </param>
    private static Regex Create(string pattern, bool ignoreCase, TimeSpan timeout, bool compiled)
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

        if (compiled)
        {
            options |= RegexOptions.Compiled;
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

    /// <summary>Segments one parallel work item covers (1 M characters).</summary>
    internal const int BlockSegments = 16;

    /// <summary>Views at least this long are searched by every core (and with a compiled regex given a budget of 1 s or more).</summary>
    internal const int ParallelMinChars = 1 << 20;

    /// <summary>
    /// Finds the lines of <paramref name="view"/> that hold a match of <paramref name="pattern"/>, in order, keeping the
    /// first <paramref name="maxResults"/> and counting all.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A line matches when the regex finds a match that starts in it, searching from the line's start; the search then
    /// goes on from the next line. <paramref name="budget"/> bounds the <b>whole</b> search, not each match: the view is
    /// scanned in segments that start at the first line start at or after each multiple of <see cref="SegmentChars"/>
    /// characters; before each segment the search checks <paramref name="cancellationToken"/> and the deadline, and the
    /// regex it runs never has a match timeout longer than the time left, so the search ends within the budget plus one
    /// segment's overhead, and within one segment's scan (well under 100 ms for any pattern that does not backtrack
    /// catastrophically) of cancellation. A match cannot span two segments: grep is line-oriented, so only a pattern
    /// that crosses line breaks can notice.
    /// </para>
    /// <para>
    /// A view of at least <see cref="ParallelMinChars"/> characters is searched by every core
    /// (<see cref="Environment.ProcessorCount"/>), in blocks of <see cref="BlockSegments"/> segments whose results are
    /// merged in order. Segment boundaries depend only on the text, so the hits, their order and the count are those of a
    /// search on one thread.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException">The pattern is empty or invalid; the message says why.</exception>
    /// <exception cref="GrepTimeoutException">The search took longer than <paramref name="budget"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static (List<GrepHit> Hits, int TotalLines) Search(ContextView view, string pattern, bool ignoreCase, TimeSpan budget, int maxResults, CancellationToken cancellationToken = default)
    {
        bool large = view.Length >= ParallelMinChars;

        // A compiled regex is JIT-compiled on its first match, inside the match timeout: only with a budget far above that.
        bool compiled = large && budget >= TimeSpan.FromSeconds(1);
        return Search(view, pattern, ignoreCase, budget, maxResults, large ? Environment.ProcessorCount : 1, SegmentChars, BlockSegments, compiled, cancellationToken);
    }

    /// <summary>The search with its partitioning given (tests compare every partitioning with one thread).</summary>
    internal static (List<GrepHit> Hits, int TotalLines) Search(
        ContextView view, string pattern, bool ignoreCase, TimeSpan budget, int maxResults,
        int maxDegreeOfParallelism, int segmentChars, int blockSegments, bool compiled, CancellationToken cancellationToken)
    {
        var search = new Scan(view, Create(pattern, ignoreCase, budget, compiled), pattern, ignoreCase, budget, maxResults, segmentChars, cancellationToken);
        int segments = Math.Max(1, (view.Length + segmentChars - 1) / segmentChars);
        int blocks = (segments + blockSegments - 1) / blockSegments;
        var results = new BlockResult[blocks];
        if (maxDegreeOfParallelism <= 1 || blocks == 1)
        {
            for (int b = 0; b < blocks; b++)
            {
                results[b] = search.Run(b * blockSegments, Math.Min(segments, (b + 1) * blockSegments));
            }
        }
        else
        {
            try
            {
                Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, (b, state) =>
                {
                    if (search.Failed)
                    {
                        state.Stop();
                        return;
                    }

                    results[b] = search.Run(b * blockSegments, Math.Min(segments, (b + 1) * blockSegments));
                });
            }
            catch (AggregateException e)
            {
                // The first failure decides (cancellation before a timeout: both end the search).
                var first = e.InnerExceptions.FirstOrDefault(x => x is OperationCanceledException) ?? e.InnerExceptions[0];
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }
        }

        // Merge in order: the count is the sum; the hits are the first maxResults lines over the blocks in order.
        var hits = new List<GrepHit>(Math.Min(maxResults, 256));
        int total = 0;
        var span = view.Span;
        foreach (var result in results)
        {
            total += result.Total;
            for (int i = 0; i < result.Matches.Count && hits.Count < maxResults; i++)
            {
                var (index, length) = result.Matches[i];
                int line = view.LineOfOffset(index);
                var (start, end) = view.LineBounds(line);
                var location = view.Locate(start);
                hits.Add(new GrepHit(line, Excerpt(span[start..end], index - start, length, MaxLineChars), start, location?.Document, location?.Line));
            }
        }

        return (hits, total);
    }

    /// <summary>One block's matching lines: their count, and the offsets of the first matches (at most the hits kept).</summary>
    private readonly record struct BlockResult(int Total, List<(int Index, int Length)> Matches);

    /// <summary>The shared state of one search; <see cref="Run"/> scans a range of segments and may run on several threads at once.</summary>
    private sealed class Scan(ContextView view, Regex regex, string pattern, bool ignoreCase, TimeSpan budget, int maxResults, int segmentChars, CancellationToken cancellationToken)
    {
        private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
        private volatile bool _failed;

        public bool Failed => _failed;

        /// <summary>The first line start at or after segment <paramref name="k"/>'s nominal start (the view's length past the end).</summary>
        private int Boundary(int k)
        {
            if (k == 0)
            {
                return 0;
            }

            long nominal = (long)k * segmentChars;
            if (nominal >= view.Length)
            {
                return view.Length;
            }

            var span = view.Span;
            if (span[(int)nominal - 1] == '\n')
            {
                return (int)nominal;
            }

            int newline = span[(int)nominal..].IndexOf('\n');
            return newline < 0 ? view.Length : (int)nominal + newline + 1;
        }

        public BlockResult Run(int firstSegment, int endSegment)
        {
            try
            {
                return RunCore(firstSegment, endSegment);
            }
            catch
            {
                _failed = true;
                throw;
            }
        }

        private BlockResult RunCore(int firstSegment, int endSegment)
        {
            var matches = new List<(int Index, int Length)>();
            int total = 0;
            var local = regex;
            var span = view.Span;
            int segmentStart = Boundary(firstSegment);
            for (int k = firstSegment; k < endSegment; k++)
            {
                if ((long)(k + 1) * segmentChars <= segmentStart)
                {
                    // Inside a line longer than a segment, already scanned: skip it without looking for its end again
                    // (on a one-line file of 50 M characters that look would cost a scan of the rest per segment).
                    continue;
                }

                int segmentEnd = Boundary(k + 1);
                if (segmentEnd <= segmentStart && !(view.Length == 0 && k == 0))
                {
                    continue; // a line longer than a segment: its text is in an earlier segment
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (_failed)
                {
                    break; // another block failed; its exception ends the search
                }

                var left = budget - System.Diagnostics.Stopwatch.GetElapsedTime(_started);
                if (left <= TimeSpan.Zero)
                {
                    throw GrepTimeoutException.Overall(budget, segmentStart, view.Length);
                }

                if (left < local.MatchTimeout * 0.9)
                {
                    // Never let one regex operation outlive the search's deadline.
                    local = Create(pattern, ignoreCase, left);
                }

                var segment = span[segmentStart..segmentEnd];
                long segmentStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                int at = 0;
                try
                {
                    // Only an empty view has an empty segment. An empty match (like $) at the end of a segment that ends
                    // with a line break belongs to the next segment's first line, or is past the text's final line break.
                    while (at < segment.Length || (segment.Length == 0 && at == 0))
                    {
                        var enumerator = local.EnumerateMatches(segment, at);
                        if (!enumerator.MoveNext() || (enumerator.Current.Index == segment.Length && segment.Length > 0 && segment[^1] == '\n'))
                        {
                            break;
                        }

                        int index = segmentStart + enumerator.Current.Index;
                        total++;
                        if (matches.Count < maxResults)
                        {
                            matches.Add((index, enumerator.Current.Length));
                        }

                        // Go on from the next line: one hit per line.
                        int newline = span[index..segmentEnd].IndexOf('\n');
                        if (newline < 0)
                        {
                            break;
                        }

                        at = index + newline + 1 - segmentStart;

                        // Slow matches add up: past the deadline stop, and near it go on with a regex whose timeout is
                        // what is left (one running match cannot be shortened).
                        left = budget - System.Diagnostics.Stopwatch.GetElapsedTime(_started);
                        if (left <= TimeSpan.Zero)
                        {
                            throw GrepTimeoutException.Overall(budget, index, view.Length);
                        }

                        if (left < local.MatchTimeout * 0.9)
                        {
                            local = Create(pattern, ignoreCase, left);
                        }

                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }
                catch (RegexMatchTimeoutException)
                {
                    // One match that ran for half the budget or more is the pattern's fault; a timeout shortened to
                    // what was left of the budget is the whole scan's.
                    var spent = System.Diagnostics.Stopwatch.GetElapsedTime(segmentStarted);
                    throw spent >= budget / 2 && local.MatchTimeout >= budget / 2
                        ? GrepTimeoutException.Backtracking(budget)
                        : GrepTimeoutException.Overall(budget, segmentStart, view.Length);
                }

                segmentStart = segmentEnd;
            }

            return new BlockResult(total, matches);
        }
    }

    /// <summary>
    /// A line as a hit shows it: the whole line when it fits in <paramref name="maxChars"/>, otherwise a window of that size
    /// centred on the match (clamped to the line), with the characters cut on either side counted:
    /// <c>…[9,530 chars] word MARKER zzz …[207 chars]</c>. A match anywhere in a long line (a one-line document, minified
    /// code) is then visible; only the window is copied, so a line of any length costs the same.
    /// </summary>
    /// <param name="line">The whole line (a slice of the context, not a copy).</param>
    /// <param name="matchIndex">Where the match starts in <paramref name="line"/>.</param>
    /// <param name="matchLength">The match's length; a match longer than the window shows its start.</param>
    /// <param name="maxChars">The most characters of the line shown.</param>
    internal static string Excerpt(ReadOnlySpan<char> line, int matchIndex, int matchLength, int maxChars)
    {
        if (line.Length <= maxChars)
        {
            return line.ToString();
        }

        int centre = matchIndex + Math.Min(matchLength, maxChars) / 2;
        int start = Math.Clamp(centre - maxChars / 2, 0, line.Length - maxChars);
        int end = start + maxChars;
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        string before = start > 0 ? string.Create(invariant, $"…[{start:N0} chars] ") : string.Empty;
        string after = end < line.Length ? string.Create(invariant, $" …[{line.Length - end:N0} chars]") : string.Empty;
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

/// <summary>One grep hit: a 0-based line of the view (the number <c>peek_lines</c> takes), its text, its relative character offset, and its document location when the context has documents.</summary>
internal sealed record GrepHit(int Line, string Text, int Offset, string? Document, int? DocumentLine);
