using System.Text;
using System.Text.RegularExpressions;
using Rlm.Tools.Context;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.Tools;

/// <summary>The parallel grep finds the same lines, in the same order, with the same count and cap, as one thread.</summary>
[Collection(Rlm.Tools.Tests.Tools.GrepTimingCollection.Name)]
public sealed class GrepParallelTests
{
    private static readonly (string Pattern, bool IgnoreCase)[] s_patterns =
    [
        ("ab", false),
        ("AB", true),
        ("a+b", false),
        (@"\bcd\w*", true),
        ("^a", false),
        ("b$", false),
        ("^$", false),
        ("$", false),
        (@"\d{2,}", false),
        ("zzz", false),
        ("é|日", false),
    ];

    /// <summary>Random lines of a small alphabet: empty lines, CRLF endings, and lines far longer than a segment.</summary>
    private static string RandomText(int seed)
    {
        var random = new Random(seed);
        const string alphabet = "abcdABCD é日0123456789";
        var text = new StringBuilder();
        int lines = random.Next(200, 2_000);
        for (int i = 0; i < lines; i++)
        {
            int length = random.Next(10) switch
            {
                0 => 0,
                1 => random.Next(200, 3_000),
                _ => random.Next(1, 60),
            };
            for (int j = 0; j < length; j++)
            {
                text.Append(alphabet[random.Next(alphabet.Length)]);
            }

            text.Append(random.Next(5) == 0 ? "\r\n" : "\n");
        }

        if (random.Next(2) == 0)
        {
            text.Append("ab tail without a line break");
        }

        return text.ToString();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void ParallelSearch_EqualsOneThread_AndALineByLineReference(int seed)
    {
        string text = RandomText(seed);
        var view = new ContextView(ContextText.FromString(text));
        string[] lines = text.EndsWith('\n') ? text[..^1].Split('\n') : text.Split('\n');
        foreach (var (pattern, ignoreCase) in s_patterns)
        {
            foreach (int maxResults in new[] { 1, 7, 100_000 })
            {
                // Small segments and blocks so that a few thousand lines make many blocks on several threads.
                var sequential = GrepSearch.Search(view, pattern, ignoreCase, TimeSpan.FromMinutes(1), maxResults, 1, 512, 1, compiled: false, CancellationToken.None);
                var parallel = GrepSearch.Search(view, pattern, ignoreCase, TimeSpan.FromMinutes(1), maxResults, 4, 512, 2, compiled: true, CancellationToken.None);
                var oneSegment = GrepSearch.Search(view, pattern, ignoreCase, TimeSpan.FromMinutes(1), maxResults, 1, int.MaxValue / 2, 1, compiled: false, CancellationToken.None);

                string what = $"seed {seed}, /{pattern}/{(ignoreCase ? "i" : string.Empty)}, max {maxResults}";
                Assert.True(sequential.TotalLines == parallel.TotalLines, what);
                Assert.Equal(sequential.Hits, parallel.Hits);
                Assert.Equal(sequential.Hits, oneSegment.Hits);
                Assert.Equal(sequential.TotalLines, oneSegment.TotalLines);
                Assert.Equal(Math.Min(maxResults, sequential.TotalLines), sequential.Hits.Count);

                // grep semantics: a line matches when the regex matches the line on its own (with its \r).
                var regex = new Regex(pattern, RegexOptions.Multiline | RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None));
                var expected = Enumerable.Range(0, lines.Length).Where(i => regex.IsMatch(lines[i])).ToList();
                Assert.True(expected.Count == sequential.TotalLines, $"{what}: {sequential.TotalLines} lines, expected {expected.Count}");
                Assert.Equal(expected.Take(maxResults), sequential.Hits.Select(h => h.Line));
            }
        }
    }

    [Fact]
    public void PublicSearch_OnALargeView_UsesTheParallelPath_AndEqualsOneThread()
    {
        // 3 M characters: above ParallelMinChars, so Search runs on every core with a compiled regex.
        string text = string.Concat(Enumerable.Range(0, 60_000).Select(i => $"{i:D6} {(i % 97 == 0 ? "needle" : "hay")} {new string('x', i % 80)}\n"));
        var view = new ContextView(ContextText.FromString(text));
        Assert.True(view.Length >= GrepSearch.ParallelMinChars);

        var parallel = GrepSearch.Search(view, "NEEDLE", ignoreCase: true, TimeSpan.FromMinutes(1), 500);
        var sequential = GrepSearch.Search(view, "NEEDLE", ignoreCase: true, TimeSpan.FromMinutes(1), 500, 1, GrepSearch.SegmentChars, GrepSearch.BlockSegments, compiled: false, CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 60_000).Count(i => i % 97 == 0), parallel.TotalLines);
        Assert.Equal(sequential.TotalLines, parallel.TotalLines);
        Assert.Equal(sequential.Hits, parallel.Hits);
        Assert.Equal(500, parallel.Hits.Count);
    }

    [Fact]
    public void EmptyView_MatchesAnEmptyPatternOnce()
    {
        var view = new ContextView(ContextText.FromString(string.Empty));

        var (hits, total) = GrepSearch.Search(view, "^$", ignoreCase: false, TimeSpan.FromSeconds(5), 10);

        Assert.Equal(1, total);
        Assert.Equal(0, Assert.Single(hits).Line);
    }
}
