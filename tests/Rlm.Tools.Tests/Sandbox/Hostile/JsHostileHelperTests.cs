using System.Text;
using Rlm.Tools.Sandbox;
using static Rlm.Tools.Tests.Sandbox.Hostile.HostileHarness;

namespace Rlm.Tools.Tests.Sandbox.Hostile;

/// <summary>
/// Hostile code, family 6: abuse of the host helpers — huge and absurd ranges to <c>lines()</c> and <c>grep()</c>,
/// 10,000 <c>llm_query</c> calls in a loop, <c>llm_query_batched</c> with 100,000 prompts (and with arrays that only
/// claim a huge length), huge prompts, huge prints and completion values (capped at <c>MaxOutputChars</c>), huge
/// variables, and caller cancellation while a helper waits. Each either answers correctly or fails with a clear error,
/// within the bound, and the session runs its next call.
/// </summary>
[Collection(JsSandboxCollection.Name)]
public sealed class JsHostileHelperTests
{
    private static string MegabyteContext()
    {
        var text = new StringBuilder(1 << 20);
        for (int i = 0; text.Length < (1 << 20); i++)
        {
            text.Append("line ").Append(i).Append(" lorem ipsum dolor sit amet\n");
        }

        return text.ToString();
    }

    private static async Task AnswersAsync(string code, string value, FakeJsHost? host = null)
    {
        using var sandbox = await SessionAsync(host);

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        Assert.True(result.Error is null, $"error: {result.Error}; code: {Snippet(code)}");
        Assert.Equal(value, result.Value);
        Assert.True(result.Output.Length <= MaxOutputChars, $"output of {result.Output.Length:N0} characters passed the cap");
        await AssertRecoversAsync(sandbox);
    }

    /// <summary>Ranges far outside the view are clamped (SmallText has 4 lines, 41 characters).</summary>
    [Theory]
    [InlineData("lines(-1e12, 1e12).length", "41")]
    [InlineData("lines(0, Infinity).length", "41")]
    [InlineData("lines(-Infinity).length", "41")]
    [InlineData("lines(2 ** 53, -(2 ** 53)).length", "0")]
    [InlineData("lines(3, 1e308).length", "10")]
    [InlineData("lines('0', '2').length", "18")]
    [InlineData("lines(4294967296, 4294967300).length", "0")]
    [InlineData("grep('.', 1e12).length", "4")]
    [InlineData("grep('a', -5).length <= 4", "true")]
    [InlineData("grep('a', Infinity).length", "4")]
    public Task HugeRanges_AreClamped(string code, string value) => AnswersAsync(code, value);

    /// <summary>Whole-context copies in a loop over a 1 MB context: bounded by the time (or memory) limit.</summary>
    [Theory]
    [InlineData("for (;;) lines(0, 1e9)")]
    [InlineData("const keep = []; for (;;) keep.push(lines(0, 1e9))")]
    [InlineData("for (;;) grep('lorem', 1e9)")]
    public Task WholeContextCopiesInALoop_StopAtALimit(string code) =>
        HostileAsync(code, MemoryLimits, host: new FakeJsHost(MegabyteContext()));

    [Fact]
    public async Task TenThousandLlmQueries_AllAnsweredOrStoppedByALimit()
    {
        var host = new FakeJsHost(SmallText);
        using var sandbox = await SessionAsync(host);
        const string Code = "let n = 0; for (let i = 0; i < 10000; i++) { n += llm_query('q' + i).length; } n";

        var (result, _) = await RunAsync(sandbox, Code, Bound(Limits()));

        AssertNoSandboxFault(result, Code);
        if (result.Error is null)
        {
            long expected = Enumerable.Range(0, 10_000).Sum(i => ("answer:q" + i).Length);
            Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Value);
            Assert.Equal(10_000, host.Prompts.Count);
        }
        else
        {
            AssertClearError(result, Code, "limit", "budget", "too many");
        }

        await AssertRecoversAsync(sandbox);
    }

    [Fact]
    public async Task TenThousandLlmQueriesAgainstASpentBudget_EndWithinTheBound()
    {
        int calls = 0;
        var host = new FakeJsHost(SmallText)
        {
            Model = (prompt, _) => Task.FromResult(Interlocked.Increment(ref calls) > 100 ? "Error: the sub-call budget is spent." : "ok"),
        };

        await AnswersAsync("let errors = 0; for (let i = 0; i < 10000; i++) { if (llm_query('q').startsWith('Error:')) errors++; } errors", "9900", host);
    }

    [Fact]
    public async Task HundredThousandBatchedPrompts_AnsweredInOrderOrRefusedClearly()
    {
        var host = new FakeJsHost(SmallText);
        using var sandbox = await SessionAsync(host);
        const string Code = "const a = llm_query_batched(Array.from({ length: 100000 }, (_, i) => 'p' + i)); a.length + ' ' + a[99999]";

        var (result, _) = await RunAsync(sandbox, Code, Bound(Limits()));

        AssertNoSandboxFault(result, Code);
        if (result.Error is null)
        {
            Assert.Equal("100000 answer:p99999", result.Value);
        }
        else
        {
            AssertClearError(result, Code, "limit", "too many", "at most", "prompts");
        }

        await AssertRecoversAsync(sandbox);
    }

    /// <summary>Arrays that claim a huge length without the prompts: refused clearly, without allocating for the claimed length.</summary>
    [Theory]
    [InlineData("var a = []; a.length = 4294967295; llm_query_batched(a)")]
    [InlineData("var a = []; a[1e6] = 'x'; llm_query_batched(a)")]
    [InlineData("llm_query_batched(new Proxy([], { get(t, k) { return k === 'length' ? 1e9 : 'p'; } }))")]
    [InlineData("llm_query_batched({ length: 1e9, 0: 'p' })")]
    [InlineData("llm_query_batched(new Array(1e7))")]
    public Task BatchThatClaimsAHugeLength_IsRefusedClearly(string code) =>
        HostileAsync(code, ["prompt", "TypeError", "limit", "too many", "at most", "array", "undefined"]);

    [Theory]
    [InlineData("llm_query('x'.repeat(5e7)).length", "50000007")]
    [InlineData("llm_query_batched(Array(100).fill('x'.repeat(1e6))).length", "100")]
    public async Task HugePrompts_AreAnsweredOrRefusedClearly(string code, string value)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        if (result.Error is null)
        {
            Assert.Equal(value, result.Value);
        }
        else
        {
            AssertClearError(result, code, "limit", "too long", "too large", "prompt");
        }

        await AssertRecoversAsync(sandbox);
    }

    [Fact]
    public Task PromptLargerThanTheMemoryLimit_StopsAtALimit() =>
        HostileAsync("llm_query('x'.repeat(2 ** 28))", MemoryLimits);

    /// <summary>Huge prints and completion values: the call works and what comes back is capped at MaxOutputChars.</summary>
    [Theory]
    [InlineData("print('x'.repeat(5e7)); 'done'")]
    [InlineData("for (let i = 0; i < 50000; i++) print('line ' + i); 'done'")]
    [InlineData("console.log(...new Array(1e5).fill('z')); 'done'")]
    [InlineData("print(new Array(1e6).fill(12345)); 'done'")]
    [InlineData("print(lines(0, 1e9), lines(0, 1e9)); 'done'")]
    public async Task HugePrint_IsCappedAtMaxOutputChars(string code)
    {
        using var sandbox = await SessionAsync(new FakeJsHost(MegabyteContext()));

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        Assert.True(result.Error is null, $"error: {result.Error}; code: {code}");
        Assert.Equal("done", result.Value);
        Assert.True(result.OutputTruncated);
        Assert.InRange(result.Output.Length, 1, MaxOutputChars);
        await AssertRecoversAsync(sandbox);
    }

    [Fact]
    public async Task EndlessPrinting_StopsAtTheLimitWithCappedOutput()
    {
        var result = await HostileAsync("for (;;) print('y'.repeat(1000))", LoopLimits);

        Assert.True(result.OutputTruncated);
        Assert.InRange(result.Output.Length, 1, MaxOutputChars);
    }

    [Theory]
    [InlineData("'v'.repeat(5e7)")]
    [InlineData("new Array(1e6).fill('w')")]
    [InlineData("lines(0, 1e9)")]
    [InlineData("({ big: 'u'.repeat(1e7) })")]
    public async Task HugeCompletionValue_IsCapped(string code)
    {
        using var sandbox = await SessionAsync(new FakeJsHost(MegabyteContext()));

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        Assert.True(result.Error is null, $"error: {result.Error}; code: {code}");
        Assert.InRange(result.Value!.Length, 1, MaxOutputChars);
        await AssertRecoversAsync(sandbox);
    }

    /// <summary>
    /// Twenty calls each storing a distinct ~100 MB text with <c>set_variable</c>: the variables live in the host, outside
    /// the script's heap, so 2 GB would pile up. The per-session memory bound (issue item 3) should cover them too.
    /// </summary>
    [Fact]
    public async Task HugeVariablesAcrossCalls_HitALimit()
    {
        var host = new FakeJsHost(SmallText);
        using var sandbox = await SessionAsync(host);
        string? error = null;
        for (int call = 0; call < 20 && error is null; call++)
        {
            string code = $"set_variable('v{call}', ('x' + {call}).repeat(25e6)); 'stored'";
            var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));
            AssertNoSandboxFault(result, code);
            error = result.Error;
        }

        Assert.True(error is not null, $"twenty 100 MB variables stored without an error ({host.Variables.Count} variables)");
        Assert.Contains("limit", error, StringComparison.OrdinalIgnoreCase);
        await AssertRecoversAsync(sandbox);
    }

    /// <summary>The caller cancels while a helper waits on a model that never answers: OperationCanceledException promptly, then the session works.</summary>
    [Theory]
    [InlineData("llm_query('q')")]
    [InlineData("llm_query_batched(['a', 'b', 'c'])")]
    [InlineData("for (;;) llm_query('q')")]
    public async Task CancelledWhileAHelperWaits_ThrowsPromptlyAndTheSessionGoesOn(string code)
    {
        var host = new FakeJsHost(SmallText)
        {
            Model = async (prompt, ct) =>
            {
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, ct);
                return "never";
            },
        };
        using var sandbox = await SessionAsync(host);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sandbox.ExecuteAsync(code, cts.Token).WaitAsync(HangGuard));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"cancellation took {clock.Elapsed.TotalSeconds:0.00} s");
        await AssertRecoversAsync(sandbox);
    }
}
