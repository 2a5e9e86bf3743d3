using System.Diagnostics;
using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tests.Sandbox;
using Rlm.Tools.Tests.TestSupport;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.Tools;

/// <summary>
/// The grep and loader tests that time themselves or burn every core share one collection that runs alone: grep tells a
/// slow pattern from a slow scan by wall-clock time, which other tests on the same cores would distort.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GrepTimingCollection
{
    public const string Name = "GrepTiming";
}

/// <summary>grep bounds the whole search, not each match, and stops promptly on cancellation, from the tool and from JS.</summary>
[Collection(GrepTimingCollection.Name)]
public sealed class GrepBoundsTests
{
    // 8 KB of lines that make ^(a+)+$ backtrack catastrophically on every line.
    private static readonly string s_crafted = string.Concat(Enumerable.Repeat(new string('a', 30) + "b\n", 260));

    private static readonly Lazy<string> s_huge = new(() => string.Create(200_000_000, 0, static (span, _) =>
    {
        span.Fill('x');
        for (int i = 99; i < span.Length; i += 100)
        {
            span[i] = '\n';
        }
    }));

    [Fact]
    public async Task CatastrophicPattern_FromTheTool_IsStoppedByTheWholeSearchBudget()
    {
        var harness = new ToolHarness(s_crafted, new RlmOptions { RegexTimeout = TimeSpan.FromMilliseconds(500) });
        var clock = Stopwatch.StartNew();

        var result = await harness.RunAsync("grep", new { pattern = "^(a+)+$" });

        Assert.True(result.IsError);
        Assert.Contains("catastrophic backtracking", result.Text);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}"); // before: 44 s (2 s per line)
    }

    [Fact]
    public async Task CatastrophicPattern_FromJavaScript_IsAnErrorAndTheSessionGoesOn()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(s_crafted), new JsLimits(TimeSpan.FromSeconds(5), 1_000_000, 64, 256L << 20, 10_000));
        var clock = Stopwatch.StartNew();

        var result = await sandbox.ExecuteAsync("grep('^(a+)+$').length", CancellationToken.None);

        Assert.StartsWith("Error: grep: the ", result.Error);
        Assert.Contains("ran too long", result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
        Assert.Equal("2", (await sandbox.ExecuteAsync("1 + 1", CancellationToken.None)).Value);
    }

    [Fact]
    public void HitFreeScanOfAHugeContext_StopsPromptlyOnCancellation()
    {
        var view = new ContextView(ContextText.FromString(s_huge.Value));
        using var cts = new CancellationTokenSource();
        var clock = new Stopwatch();
        cts.Token.Register(clock.Start);
        cts.CancelAfter(30);

        // \w+\d backtracks over every line (no digit anywhere), compiled or not, and "|y" keeps the regex from searching
        // for a literal first: the whole scan would take minutes. (x+y no longer does: .NET finds the y first.)
        Assert.Throws<OperationCanceledException>(() => GrepSearch.Search(view, @"\w+\d|y", ignoreCase: true, TimeSpan.FromMinutes(5), 50, cts.Token));

        // The search checks cancellation before every 64 K-character segment (a few milliseconds each here).
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), $"stopped {clock.Elapsed.TotalMilliseconds:F0} ms after Cancel()");
    }

    [Fact]
    public void SlowLinearScan_PastTheBudget_SaysTheSearchWasSlow_NotThePattern()
    {
        var view = new ContextView(ContextText.FromString(s_huge.Value));

        // 250 ms: one 64 K-character segment taking half of it (what would mean backtracking) does not happen by a pause
        // of a busy machine, as 25 ms of a 50 ms budget did; the 200 M-character scan still takes several times longer.
        var e = Assert.Throws<GrepTimeoutException>(() => GrepSearch.Search(view, @"x{5}\d|y", ignoreCase: true, TimeSpan.FromMilliseconds(250), 50));

        Assert.StartsWith("the search ran too long: it hit its 0.25 s time limit after ", e.Message);
        Assert.DoesNotContain("backtracking", e.Message);
    }

    [Fact]
    public void Segments_FindEveryMatchingLineOnce_AcrossSegmentBoundaries()
    {
        // Lines of 1,000 characters: segment boundaries (64 K) fall inside lines and are moved to the next line break.
        string text = string.Concat(Enumerable.Range(0, 500).Select(i => (i % 7 == 0 ? "hit " : "no ") + new string('.', 990) + $"{i:D4}\n"));
        var view = new ContextView(ContextText.FromString(text));

        var (hits, total) = GrepSearch.Search(view, "^hit", ignoreCase: false, TimeSpan.FromSeconds(5), 1_000);

        Assert.Equal(Enumerable.Range(0, 500).Count(i => i % 7 == 0), total);
        Assert.Equal(Enumerable.Range(0, 500).Where(i => i % 7 == 0), hits.Select(h => h.Line));
    }
}
