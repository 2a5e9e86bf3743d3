using System.Diagnostics;
using System.Text;
using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Tests.Sandbox;

/// <summary><c>count_lines</c>, <c>count_matches</c> and <c>count_by</c>, run through <see cref="JsSandbox.ExecuteAsync"/>.</summary>
[Collection(JsSandboxCollection.Name)]
public sealed class JsNativeHelpersTests
{
    private const string Log =
        "pkg-a (1.0) unstable; urgency=medium\n" +
        "  * Fix build failure\n" +
        "pkg-b (2.1) experimental; urgency=LOW\n" +
        "  * ERROR handling, error path\n" +
        "pkg-a (1.1) unstable; urgency=high\n" +
        "\n" +
        "the end";

    private static JsLimits Limits(TimeSpan? timeout = null, long memoryBytes = 256L << 20) =>
        JsSandboxTests.Limits(timeout ?? TimeSpan.FromSeconds(30), int.MaxValue, 64, memoryBytes, 10_000);

    private static async Task<string?> ValueAsync(string code, string text = Log)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(text), Limits());
        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);
        Assert.True(result.Error is null, $"unexpected error: {result.Error}");
        return result.Value;
    }

    private static async Task<string> ErrorAsync(string code, string text = Log)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(text), Limits());
        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);
        Assert.NotNull(result.Error);
        var next = await sandbox.ExecuteAsync("count_lines('a\\nb')", CancellationToken.None);
        Assert.Equal("2", next.Value);
        return result.Error;
    }

    // count_lines

    [Theory]
    [InlineData("")]
    [InlineData("one")]
    [InlineData("one\n")]
    [InlineData("one\ntwo\n\nthree")]
    [InlineData("\n\n")]
    public async Task CountLines_WithoutPattern_EqualsSplitLength(string text)
    {
        Assert.Equal("true", await ValueAsync("count_lines(context) === context.split('\\n').length", text));
    }

    [Fact]
    public async Task CountLines_RegExp_CountsLinesWithAMatchOnce()
    {
        Assert.Equal("2", await ValueAsync("count_lines(context, /error|fail/i)"));
        Assert.Equal("1", await ValueAsync("count_lines(context, /error/)"));
        Assert.Equal(
            await ValueAsync("context.split('\\n').filter(l => /error|fail/i.test(l)).length"),
            await ValueAsync("count_lines(context, /error|fail/i)"));
    }

    [Fact]
    public async Task CountLines_StringPattern_IsRegularExpressionSource()
    {
        Assert.Equal("3", await ValueAsync("count_lines(context, '^pkg-\\\\w+ \\\\(')"));
        Assert.Equal("0", await ValueAsync("count_lines(context, 'ERROR handling.*fail')"));
    }

    [Fact]
    public async Task CountLines_Anchors_MatchAtEachLineWithoutTheMFlag()
    {
        Assert.Equal("3", await ValueAsync("count_lines(context, /^pkg/)"));
        Assert.Equal("3", await ValueAsync("count_lines(context, /^pkg/m)"));
        Assert.Equal("2", await ValueAsync("count_lines(context, /unstable; urgency=\\w+$/)"));
    }

    [Fact]
    public async Task CountLines_ArrayOfStrings_TakesEachElementAsALine()
    {
        Assert.Equal("2", await ValueAsync("count_lines(['an error', 'fine', 'FAIL'], /error|fail/i)"));
        Assert.Equal("3", await ValueAsync("count_lines(['a', 'b', 'c'])"));
        Assert.Equal("0", await ValueAsync("count_lines([], /x/)"));
    }

    // count_matches

    [Fact]
    public async Task CountMatches_CountsEveryMatchWithOrWithoutTheGFlag()
    {
        Assert.Equal("3", await ValueAsync("count_matches(context, /error|fail/i)"));
        Assert.Equal("3", await ValueAsync("count_matches(context, /error|fail/gi)"));
        Assert.Equal(
            await ValueAsync("(context.match(/\\w+/g) ?? []).length"),
            await ValueAsync("count_matches(context, /\\w+/)"));
    }

    [Fact]
    public async Task CountMatches_StringPatternAndArray()
    {
        Assert.Equal("3", await ValueAsync("count_matches(context, 'urgency=')"));
        Assert.Equal("4", await ValueAsync("count_matches(['a a', 'b', 'a a'], 'a')"));
    }

    [Fact]
    public async Task CountMatches_NoMatchSpansALineBreak()
    {
        Assert.Equal("0", await ValueAsync("count_matches('a\\nb', /a\\nb/)"));
        Assert.Equal("0", await ValueAsync("count_matches('a\\nb', /a[\\s\\S]b/)"));
    }

    // count_by

    [Fact]
    public async Task CountBy_DefaultGroupIsTheFirst_MostFrequentFirst()
    {
        Assert.Equal("[[\"pkg-a\",2],[\"pkg-b\",1]]", await ValueAsync("count_by(context, /^(\\S+) \\(/)"));
    }

    [Fact]
    public async Task CountBy_NoGroups_CountsWholeMatches()
    {
        Assert.Equal("[[\"a\",3],[\"b\",2],[\"c\",1]]", await ValueAsync("count_by('b a c\\na b a', /\\w+/g)"));
    }

    [Fact]
    public async Task CountBy_GroupNumberLowercaseAndTop()
    {
        Assert.Equal("[[\"high\",1],[\"low\",1]]",
            await ValueAsync("count_by(context, /^(\\S+) \\(([^)]+)\\) ([^;]+); urgency=(\\w+)/, { group: 4, lowercase: true, top: 2 })"));
        Assert.Equal("[[\"LOW\",1],[\"high\",1],[\"medium\",1]]",
            await ValueAsync("count_by(context, /urgency=(\\w+)/)"));
    }

    [Fact]
    public async Task CountBy_TiesAreOrderedByKey()
    {
        Assert.Equal("[[\"x\",2],[\"a\",1],[\"b\",1],[\"c\",1]]", await ValueAsync("count_by(['c', 'x', 'b', 'x', 'a'], /.+/)"));
    }

    [Fact]
    public async Task CountBy_NamedGroupAndNumbersAsInJavaScript()
    {
        const string Pattern = "/(?<name>[a-z]+)-(\\d+)/";
        Assert.Equal("[[\"pkg\",2],[\"lib\",1]]", await ValueAsync($"count_by(['pkg-1', 'lib-2', 'pkg-2'], {Pattern}, {{ group: 'name' }})"));
        Assert.Equal("[[\"2\",2],[\"1\",1]]", await ValueAsync($"count_by(['pkg-1', 'lib-2', 'pkg-2'], {Pattern}, {{ group: 2 }})"));
        Assert.Equal("[[\"pkg\",2],[\"lib\",1]]", await ValueAsync($"count_by(['pkg-1', 'lib-2', 'pkg-2'], {Pattern})"));
    }

    [Fact]
    public async Task CountBy_GroupThatDidNotTakePart_IsSkipped()
    {
        Assert.Equal("[[\"x\",1]]", await ValueAsync("count_by(['ax', 'b', 'a'], /a(x)?|b/)"));
    }

    [Fact]
    public async Task CountBy_ResultIsAPlainArrayOfPairs()
    {
        Assert.Equal("2", await ValueAsync("Object.fromEntries(count_by(context, /^(\\S+) \\(/)).get === undefined && Object.fromEntries(count_by(context, /^(\\S+) \\(/))['pkg-a']"));
        Assert.Equal("true", await ValueAsync("Array.isArray(count_by('', /x/)) && count_by('', /x/).length === 0"));
    }

    [Fact]
    public async Task CountBy_AgreesWithPlainJavaScriptOnWordFrequencies()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 2_000; i++)
        {
            text.Append("Word").Append(i % 37).Append(" the The tHe x_").Append(i % 5).Append('\n');
        }

        const string Plain = """
            const counts = new Map();
            for (const w of context.toLowerCase().match(/\w+/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
            JSON.stringify([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 12))
            """;
        Assert.Equal(await ValueAsync(Plain, text.ToString()), await ValueAsync("JSON.stringify(count_by(context, /\\w+/g, { lowercase: true, top: 12 }))", text.ToString()));
    }

    [Fact]
    public async Task CountBy_TooManyDistinctKeysWithoutTop_AsksForTop()
    {
        string text = string.Join('\n', Enumerable.Range(0, JsNativeHelpers.MaxKeys + 1).Select(i => "k" + i));

        string error = await ErrorAsync("count_by(context, /\\w+/)", text);

        Assert.StartsWith("RangeError: count_by: 100,001 distinct keys", error);
        Assert.Contains("top", error);
        Assert.Equal("[[\"k0\",1]]", await ValueAsync("count_by(context, /\\w+/, { top: 1 })", text));
    }

    // bad input

    [Theory]
    [InlineData("count_matches(context)", "TypeError: count_matches: pass a pattern")]
    [InlineData("count_by(context)", "TypeError: count_by: pass a pattern")]
    [InlineData("count_lines(42, /x/)", "TypeError: count_lines: the first argument must be a string")]
    [InlineData("count_lines(undefined)", "TypeError: count_lines: the first argument must be a string (e.g. context) or an array of strings; got undefined")]
    [InlineData("count_matches({}, /x/)", "TypeError: count_matches: the first argument must be a string")]
    [InlineData("count_lines(['a', 1], /x/)", "TypeError: count_lines: element 1 of the array is a number, not a string.")]
    [InlineData("count_lines(context, 42)", "TypeError: count_lines: the pattern must be a RegExp")]
    [InlineData("count_lines(context, '(unclosed')", "SyntaxError")]
    [InlineData("count_lines(context, /x/u)", "TypeError: count_lines: /x/u needs JavaScript's own regular-expression engine")]
    [InlineData("count_by(context, /x/v)", "TypeError: count_by: /x/v needs JavaScript's own regular-expression engine")]
    [InlineData("count_by(context, /(a)/, { group: 2 })", "RangeError: count_by: group must be a capture group number from 0 (the whole match) to 1")]
    [InlineData("count_by(context, /(a)/, { group: 1.5 })", "RangeError: count_by: group must be")]
    [InlineData("count_by(context, /(a)/, { group: 'nope' })", "RangeError: count_by: the pattern has no group named 'nope'")]
    [InlineData("count_by(context, /(a)/, { top: 0 })", "RangeError: count_by: top must be a number from 1 to 100,000.")]
    [InlineData("count_by(context, /(a)/, { top: 1e9 })", "RangeError: count_by: top must be")]
    [InlineData("count_by(context, /(a)/, 'top')", "TypeError: count_by: the third argument is an options object")]
    public async Task Helpers_BadArguments_ThrowClearCatchableErrors(string code, string expected)
    {
        string error = await ErrorAsync(code);

        Assert.StartsWith(expected, error);
    }

    [Fact]
    public async Task Helpers_Errors_AreCatchableInJavaScript()
    {
        Assert.Equal("RangeError", await ValueAsync("try { count_by(context, /x/, { top: -1 }); } catch (e) { e.name }"));
    }

    [Fact]
    public async Task Helpers_AreNonEnumerableGlobalsTheScriptMayReplace()
    {
        Assert.Equal("[\"function\",\"function\",\"function\",false]",
            await ValueAsync("JSON.stringify([typeof count_lines, typeof count_matches, typeof count_by, Object.keys(globalThis).includes('count_by')])"));
        Assert.Equal("7", await ValueAsync("count_lines = () => 7; count_lines(context)"));
    }

    // limits

    [Fact]
    public async Task Helpers_LongRun_StopsAtTheTimeLimitAndTheSessionKeepsWorking()
    {
        // 200,000 lines on which (a|aa)+b backtracks some 20,000 steps each: far longer than the limit, no one match near 1 s.
        string text = string.Join('\n', Enumerable.Repeat(new string('a', 20) + "!", 200_000));
        using var sandbox = new HostedSandbox(new FakeJsHost(text), Limits(timeout: TimeSpan.FromMilliseconds(300)));
        Assert.Null((await sandbox.ExecuteAsync("var before = 42; context.length", CancellationToken.None)).Error);
        var clock = Stopwatch.StartNew();

        var result = await sandbox.ExecuteAsync("count_matches(context, /(a|aa)+b/)", CancellationToken.None);

        Assert.StartsWith("time limit of 300 ms exceeded.", result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        Assert.Equal("43", (await sandbox.ExecuteAsync("before + 1", CancellationToken.None)).Value);
    }

    [Theory]
    [InlineData("count_lines(context, /^(a+)+$/)")]
    [InlineData("count_matches(context, /^(a+)+$/)")]
    [InlineData("count_by(context, /^(a+)+$/)")]
    public async Task Helpers_CatastrophicRegularExpression_EndsWithinTheRegexTimeout(string code)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(new string('a', 40) + "!"), Limits(timeout: TimeSpan.FromMilliseconds(300)));
        var clock = Stopwatch.StartNew();

        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);

        Assert.StartsWith("time limit of 300 ms exceeded.", result.Error);
        Assert.Contains("regular expression", result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        Assert.Equal("2", (await sandbox.ExecuteAsync("count_lines('a\\nb')", CancellationToken.None)).Value);
    }

    [Fact]
    public async Task Helpers_Cancellation_StopsTheHelperPromptly()
    {
        string text = string.Join('\n', Enumerable.Repeat(new string('a', 20) + "!", 200_000));
        using var sandbox = new HostedSandbox(new FakeJsHost(text), Limits());
        Assert.Null((await sandbox.ExecuteAsync("context.length", CancellationToken.None)).Error);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sandbox.ExecuteAsync("count_by(context, /(a|aa)+b/)", cancel.Token));

        // The next call waits for the cancelled script to stop; it must not wait for the helper to finish its 10+ s.
        var clock = Stopwatch.StartNew();
        var next = await sandbox.ExecuteAsync("1 + 1", CancellationToken.None);
        Assert.Equal("2", next.Value);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the next call waited {clock.Elapsed}");
    }

    [Fact]
    public async Task CountBy_HugeDistinctKeys_StopsAtTheSessionMemoryLimit()
    {
        // 4 million distinct 12-character keys: the dictionary alone needs several hundred MB.
        var text = new StringBuilder(4_000_000 * 13);
        for (int i = 0; i < 4_000_000; i++)
        {
            text.Append('k').Append(i.ToString("D11", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        using var sandbox = new HostedSandbox(new FakeJsHost(text.ToString()), Limits(memoryBytes: 64L << 20));

        var result = await sandbox.ExecuteAsync("count_by(context, /\\w+/, { top: 1 })", CancellationToken.None);

        Assert.StartsWith("memory limit of 64 MiB exceeded", result.Error);
        Assert.Equal("2", (await sandbox.ExecuteAsync("1 + 1", CancellationToken.None)).Value);
    }
}
