using System.Diagnostics;
using System.Text;
using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Tests.Sandbox;

[Collection(JsSandboxCollection.Name)]
public sealed class JsSandboxLimitTests
{
    private const string Text = "one\ntwo\nthree";

    private static JsLimits Limits(TimeSpan? timeout = null, int maxStatements = int.MaxValue, int maxRecursionDepth = 64, long memoryBytes = 256L << 20) =>
        JsSandboxTests.Limits(timeout ?? TimeSpan.FromSeconds(30), maxStatements, maxRecursionDepth, memoryBytes, 10_000);

    /// <summary>About a million characters of line-structured text.</summary>
    private static string MegabyteContext()
    {
        var text = new StringBuilder(1 << 20);
        for (int i = 0; text.Length < (1 << 20); i++)
        {
            text.Append("line ").Append(i).Append(" lorem ipsum dolor sit amet\n");
        }

        return text.ToString();
    }

    private static async Task AssertStillWorksAsync(HostedSandbox sandbox)
    {
        var result = await sandbox.ExecuteAsync("var probe = [1, 2, 3]; probe.length + before", CancellationToken.None);
        Assert.Null(result.Error);
        Assert.Equal("45", result.Value);
    }

    private static async Task<HostedSandbox> SandboxWithGlobalAsync(FakeJsHost host, JsLimits limits)
    {
        var sandbox = new HostedSandbox(host, limits);
        var result = await sandbox.ExecuteAsync("var before = 42;", CancellationToken.None);
        Assert.Null(result.Error);
        return sandbox;
    }

    [Fact]
    public async Task Execute_InfiniteLoop_ReturnsTimeLimitErrorAndKeepsWorking()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(timeout: TimeSpan.FromSeconds(1)));
        var clock = Stopwatch.StartNew();

        var result = await sandbox.ExecuteAsync("print('started'); while (true) { }", CancellationToken.None);

        Assert.StartsWith("time limit of 1 s exceeded.", result.Error);
        Assert.Equal("started\n", result.Output);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_TimeLimit_AppliesToEachCallAfresh()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits(timeout: TimeSpan.FromSeconds(1)));
        const string Busy = "var t0 = Date.now(); while (Date.now() - t0 < 600) { } 'done'";

        var first = await sandbox.ExecuteAsync(Busy, CancellationToken.None);
        var second = await sandbox.ExecuteAsync(Busy, CancellationToken.None);

        Assert.Null(first.Error);
        Assert.Null(second.Error);
    }

    [Fact]
    public async Task Execute_SlowLlmQuery_DoesNotCountAgainstTheTimeLimit()
    {
        var host = new FakeJsHost(Text)
        {
            Model = async (prompt, ct) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(700), ct);
                return "slow answer";
            },
        };
        using var sandbox = await SandboxWithGlobalAsync(host, Limits(timeout: TimeSpan.FromSeconds(1)));

        // Three sequential waits of 0.7 s: 2.1 s of wall time, well past the 1 s limit, but no script time.
        var result = await sandbox.ExecuteAsync("llm_query('a') + llm_query('b') + llm_query('c')", CancellationToken.None);

        Assert.Null(result.Error);
        Assert.Equal("slow answerslow answerslow answer", result.Value);
    }

    [Fact]
    public async Task Execute_ScriptTimeAfterAHostWait_StillHitsTheTimeLimit()
    {
        var host = new FakeJsHost(Text)
        {
            Model = async (prompt, ct) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300), ct);
                return "x";
            },
        };
        using var sandbox = await SandboxWithGlobalAsync(host, Limits(timeout: TimeSpan.FromSeconds(1)));

        var result = await sandbox.ExecuteAsync("llm_query('a'); while (true) {}", CancellationToken.None);

        Assert.StartsWith("time limit of 1 s exceeded.", result.Error);
        await AssertStillWorksAsync(sandbox);
    }

    [Theory]
    [InlineData("/(a+)+b/.test(s)")]
    [InlineData("s.match('(a+)+b')")]
    [InlineData("s.replace(/(a+)+b/, 'x')")]
    [InlineData("s.split(/(a+)+b/)")]
    public async Task Execute_CatastrophicRegularExpression_ReturnsTimeLimitError(string match)
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(timeout: TimeSpan.FromMilliseconds(300)));
        var clock = Stopwatch.StartNew();

        var result = await sandbox.ExecuteAsync("var s = new Array(40).join('a'); " + match, CancellationToken.None);

        Assert.StartsWith("time limit of 300 ms exceeded.", result.Error);
        Assert.Contains("regular expression", result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_TooManyStatements_ReturnsStatementLimitErrorAndKeepsWorking()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(maxStatements: 10_000));

        var result = await sandbox.ExecuteAsync("for (var i = 0; ; i++) { i = i; }", CancellationToken.None);

        Assert.StartsWith("statement limit of 10,000 exceeded", result.Error);
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_UnboundedRecursion_ReturnsRecursionLimitErrorAndKeepsWorking()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(maxRecursionDepth: 64));

        var result = await sandbox.ExecuteAsync("function down(n) { return down(n + 1) + 1; } down(0)", CancellationToken.None);

        Assert.StartsWith("recursion limit exceeded: the call stack went deeper than 64 calls", result.Error);
        await AssertStillWorksAsync(sandbox);
        Assert.Equal("function", (await sandbox.ExecuteAsync("typeof down", CancellationToken.None)).Value);
    }

    [Fact]
    public async Task Execute_BoundedRecursionWithinTheLimit_Works()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits(maxRecursionDepth: 64));

        var result = await sandbox.ExecuteAsync("function depth(n) { return n === 0 ? 0 : depth(n - 1) + 1; } depth(60)", CancellationToken.None);

        Assert.Null(result.Error);
        Assert.Equal("60", result.Value);
    }

    [Theory]
    [InlineData("var o = {}; Object.defineProperty(o, 'x', { get: function () { return this.x; } }); o.x")]
    [InlineData("var o = { toString: function () { return 'a' + this; } }; 'b' + o")]
    [InlineData("function again(a) { return a.map(function () { return again(a); }); } again([1])")]
    public async Task Execute_RecursionJintDoesNotCount_ReturnsRecursionLimitErrorInsteadOfCrashing(string code)
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(maxRecursionDepth: 64));

        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);

        Assert.StartsWith("recursion limit exceeded: the call stack went deeper than 64 calls", result.Error);
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_MemoryBomb_ReturnsMemoryLimitError()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(MegabyteContext()), Limits(memoryBytes: 64L << 20));

        var result = await sandbox.ExecuteAsync("var s = context; while (true) s += s;", CancellationToken.None);

        Assert.StartsWith("memory limit of 64 MiB exceeded", result.Error);
        Assert.Contains("Set large variables to null", result.Error);
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_MemoryBomb_DoesNotFloodTheHostWithAllocations()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(MegabyteContext()), Limits(memoryBytes: 64L << 20));
        GC.Collect();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var result = await sandbox.ExecuteAsync("var s = context; while (true) s += s;", CancellationToken.None);

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.StartsWith("memory limit of 64 MiB exceeded", result.Error);

        // Unchecked, the loop doubles a string until .NET refuses (about 4 GiB allocated on the way).
        Assert.True(allocated < (512L << 20), $"allocated {allocated:N0} bytes");

        // What the script kept is bounded too, and freeing it works.
        var kept = await sandbox.ExecuteAsync("var kept = s.length * 2; s = null; kept", CancellationToken.None);
        Assert.Null(kept.Error);
        Assert.InRange(long.Parse(kept.Value!, System.Globalization.CultureInfo.InvariantCulture), 64L << 20, 512L << 20);
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_ArrayOfStringsGrowingForever_ReturnsMemoryLimitError()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(memoryBytes: 64L << 20));

        var result = await sandbox.ExecuteAsync("var a = []; while (true) a.push(new Array(100000).join('x'));", CancellationToken.None);

        Assert.StartsWith("memory limit of 64 MiB exceeded", result.Error);
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_JoinOfAHugeSparseArray_ReturnsMemoryLimitErrorAtOnce()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(memoryBytes: 64L << 20));
        var clock = Stopwatch.StartNew();

        var result = await sandbox.ExecuteAsync("new Array(1000000000).join('x')", CancellationToken.None);

        Assert.StartsWith("memory limit of 64 MiB exceeded", result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_LoopThatAllocatesButKeepsLittle_IsNotStoppedByTheMemoryLimit()
    {
        // Jint 2 allocates hundreds of bytes per iteration: this loop allocates many times the limit but keeps almost nothing.
        using var sandbox = new HostedSandbox(new FakeJsHost(MegabyteContext()), Limits(memoryBytes: 16L << 20));

        var result = await sandbox.ExecuteAsync(
            "var n = 0; var rows = context.split('\\n'); for (var i = 0; i < rows.length; i++) { if (rows[i].toUpperCase().indexOf('LOREM') >= 0) { n++; } } n",
            CancellationToken.None);

        Assert.Null(result.Error);
        Assert.True(int.Parse(result.Value!, System.Globalization.CultureInfo.InvariantCulture) > 20_000);
    }

    [Fact]
    public async Task Execute_CancelledDuringAnEndlessLoop_ThrowsOperationCanceledPromptly()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(timeout: TimeSpan.FromMinutes(5)));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sandbox.ExecuteAsync("while (true) { }", cts.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_CancelledDuringLlmQuery_ThrowsOperationCanceled()
    {
        var host = new FakeJsHost(Text)
        {
            Model = async (prompt, ct) =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                return "never";
            },
        };
        using var sandbox = await SandboxWithGlobalAsync(host, Limits(timeout: TimeSpan.FromMinutes(5)));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sandbox.ExecuteAsync("llm_query('q')", cts.Token));

        Assert.Equal(["q"], host.Prompts);
        await AssertStillWorksAsync(sandbox);
    }

    [Fact]
    public async Task Execute_AlreadyCancelled_ThrowsOperationCanceled()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sandbox.ExecuteAsync("1", new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task Execute_LimitHitInsideCatchWithOrFunction_LeavesTheGlobalScopeClean()
    {
        using var sandbox = await SandboxWithGlobalAsync(new FakeJsHost(Text), Limits(maxStatements: 10_000));

        var inCatch = await sandbox.ExecuteAsync("try { throw 1; } catch (caughtValue) { while (true) { } }", CancellationToken.None);
        var inWith = await sandbox.ExecuteAsync("function f() { with ({ withValue: 1 }) { while (true) { } } } f()", CancellationToken.None);
        var scope = await sandbox.ExecuteAsync("var declared = 1; [typeof caughtValue, typeof withValue, this.declared, typeof f]", CancellationToken.None);

        Assert.StartsWith("statement limit", inCatch.Error);
        Assert.StartsWith("statement limit", inWith.Error);
        Assert.Null(scope.Error);
        Assert.Equal("[\"undefined\",\"undefined\",1,\"function\"]", scope.Value);
        await AssertStillWorksAsync(sandbox);
    }
}
