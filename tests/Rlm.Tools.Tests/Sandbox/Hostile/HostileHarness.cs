using System.Diagnostics;
using System.Text;
using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Tests.Sandbox.Hostile;

/// <summary>
/// The common frame of the hostile-code tests (issue 7, item 5). Every hostile case: runs in a session that already holds
/// a global (<c>before = 42</c>); must come back (no host crash: implicit, no hang: a 30 s guard) within the stated bound
/// (time limit + 2 s) with a clear error in <see cref="JsExecutionResult.Error"/>; and the same sandbox must then run
/// <c>1+1</c> and still see the global.
/// </summary>
/// <remarks>
/// The families live in separate classes (JsHostile*Tests) so that a case that kills the test host can be isolated with
/// <c>dotnet test --filter FullyQualifiedName~JsHostileDepthTests</c>. All share the sandbox collection: the memory
/// tests measure the process heap, so nothing may run beside them.
/// </remarks>
internal static class HostileHarness
{
    /// <summary>Time limit of every hostile call; small so that the suite stays quick.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    /// <summary>How long past <see cref="Timeout"/> a limit may take to stop a script (the issue's bound, with slack for a loaded CI machine).</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    /// <summary>How long a call may take before the test calls it hung (and cancels it) instead of wedging the run.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    public const long MemoryLimitBytes = 256L << 20;

    public const int MaxOutputChars = 10_000;

    /// <summary>The limits the issue names: 1 s, 50,000,000 statements, recursion 256, 256 MiB, 10,000 output characters.</summary>
    public static JsLimits Limits(TimeSpan? timeout = null, long memoryBytes = MemoryLimitBytes) =>
        new(timeout ?? Timeout, 50_000_000, 256, memoryBytes, MaxOutputChars);

    /// <summary>Bound for one hostile call: the time limit plus <see cref="Slack"/>.</summary>
    public static TimeSpan Bound(JsLimits limits) => limits.Timeout + Slack;

    /// <summary>A small context with a few lines (grep finds "a" on every one).</summary>
    public const string SmallText = "alpha one\nbeta two\ngamma three\ndelta four";

    /// <summary>A sandbox over <paramref name="host"/> that already ran <c>var before = 42;</c>.</summary>
    public static async Task<HostedSandbox> SessionAsync(FakeJsHost? host = null, JsLimits? limits = null)
    {
        var sandbox = Create(host ?? new FakeJsHost(SmallText), limits ?? Limits());
        var result = await sandbox.ExecuteAsync("var before = 42;", CancellationToken.None).WaitAsync(HangGuard);
        Assert.True(result.Error is null, $"setting up the session failed: {result.Error}");
        return sandbox;
    }

    /// <summary>
    /// Runs <paramref name="code"/> and returns its result and duration. Fails (instead of waiting for ever) when the call
    /// takes longer than <see cref="HangGuard"/>, cancelling it so the script thread gets a chance to stop; fails when it
    /// took longer than the bound, or threw anything (only caller cancellation may throw, and nothing cancels here).
    /// </summary>
    public static async Task<(JsExecutionResult Result, TimeSpan Elapsed)> RunAsync(HostedSandbox sandbox, string code, TimeSpan bound)
    {
        using var cts = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var call = sandbox.ExecuteAsync(code, cts.Token);
        JsExecutionResult result;
        try
        {
            result = await call.WaitAsync(HangGuard);
        }
        catch (TimeoutException)
        {
            await cts.CancelAsync();
            Assert.Fail($"HANG: no result after {HangGuard.TotalSeconds:0} s (bound {bound.TotalSeconds:0.#} s) for: {Snippet(code)}");
            throw;
        }

        clock.Stop();
        Assert.True(clock.Elapsed <= bound,
            $"SLOW: took {clock.Elapsed.TotalSeconds:0.00} s, bound {bound.TotalSeconds:0.#} s; error: {result.Error ?? "(none)"}; value: {Snippet(result.Value)}; code: {Snippet(code)}");
        return (result, clock.Elapsed);
    }

    /// <summary>
    /// Runs a hostile call and asserts a clear error: non-empty, not a sandbox fault, and containing one of
    /// <paramref name="anyOf"/> (case-insensitive). Then checks the session still works.
    /// </summary>
    public static async Task<JsExecutionResult> AssertFailsAsync(HostedSandbox sandbox, string code, params string[] anyOf)
    {
        var (result, _) = await RunAsync(sandbox, code, Bound(LimitsOf(sandbox)));
        AssertClearError(result, code, anyOf);
        return result;
    }

    public static void AssertClearError(JsExecutionResult result, string code, params string[] anyOf)
    {
        Assert.True(!string.IsNullOrWhiteSpace(result.Error),
            $"NO ERROR: expected one naming [{string.Join(" | ", anyOf)}]; value: {Snippet(result.Value)}; output: {Snippet(result.Output)}; code: {Snippet(code)}");
        AssertNoSandboxFault(result, code);
        Assert.True(anyOf.Length == 0 || anyOf.Any(a => result.Error!.Contains(a, StringComparison.OrdinalIgnoreCase)),
            $"UNCLEAR ERROR: expected one naming [{string.Join(" | ", anyOf)}]; got: {result.Error}; code: {Snippet(code)}");
        Assert.Null(result.Value);
        Assert.True(result.Output.Length <= MaxOutputChars, $"output of {result.Output.Length:N0} characters passed the cap");
    }

    /// <summary>Whatever came back, it is not the sandbox's own failure (a CLR exception escaping the script).</summary>
    public static void AssertNoSandboxFault(JsExecutionResult result, string code)
    {
        string error = result.Error ?? "";
        string[] faults = ["internal sandbox error", "NullReferenceException", "InvalidCastException", "IndexOutOfRangeException",
            "OverflowException", "InvalidOperationException", "StackOverflow", "ArgumentOutOfRangeException", "KeyNotFoundException"];
        Assert.False(faults.Any(f => error.Contains(f, StringComparison.OrdinalIgnoreCase)),
            $"SANDBOX FAULT: a host exception reached the model: {error}; code: {Snippet(code)}");
    }

    /// <summary>The same sandbox runs <c>1+1</c> within the bound and still has the global set before the hostile call.</summary>
    public static async Task AssertRecoversAsync(HostedSandbox sandbox, bool globalKept = true)
    {
        var (two, _) = await RunAsync(sandbox, "1+1", Bound(LimitsOf(sandbox)));
        Assert.True(two.Error is null, $"NOT RECOVERED: 1+1 after the hostile call failed: {two.Error}");
        Assert.Equal("2", two.Value);
        if (globalKept)
        {
            var (kept, _) = await RunAsync(sandbox, "before", Bound(LimitsOf(sandbox)));
            Assert.True(kept.Error is null, $"GLOBAL LOST: {kept.Error}");
            Assert.Equal("42", kept.Value);
        }
    }

    /// <summary>The whole case: fresh session with a global, hostile call with a clear error, recovery.</summary>
    public static async Task<JsExecutionResult> HostileAsync(string code, string[] anyOf, FakeJsHost? host = null, JsLimits? limits = null, bool globalKept = true)
    {
        using var sandbox = await SessionAsync(host, limits);
        var result = await AssertFailsAsync(sandbox, code, anyOf);
        await AssertRecoversAsync(sandbox, globalKept);
        return result;
    }

    /// <summary>Process peak resident memory (VmHWM on Linux), to see that a bomb did not get far past the limit.</summary>
    public static long PeakWorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }

    public static string Snippet(string? text)
    {
        if (text is null)
        {
            return "(null)";
        }

        string oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= 200 ? oneLine : oneLine[..200] + $"… ({text.Length:N0} chars)";
    }

    /// <summary>A context of <paramref name="count"/> lines like "aaaa…ab": catastrophic for ^(a+)+$ on every line.</summary>
    public static string CatastrophicLines(int count, int width = 40)
    {
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            text.Append('a', width).Append('b').Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The limits a sandbox was made with (JsSandbox keeps them private: remembered here per instance).</summary>
    private static JsLimits LimitsOf(HostedSandbox sandbox) => s_limits.TryGetValue(sandbox, out var limits) ? limits : Limits();

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<HostedSandbox, JsLimits> s_limits = new();

    /// <summary>Makes a sandbox whose limits <see cref="AssertFailsAsync"/> knows.</summary>
    public static HostedSandbox Create(FakeJsHost host, JsLimits limits)
    {
        var sandbox = new HostedSandbox(host, limits);
        s_limits.AddOrUpdate(sandbox, limits);
        return sandbox;
    }

    /// <summary>Error keywords of the time and statement limits (an endless loop may meet either first).</summary>
    public static readonly string[] LoopLimits = ["time limit", "statement limit"];

    /// <summary>A bomb is stopped by the memory limit, or refused by the engine (RangeError), or stopped by time first.</summary>
    public static readonly string[] MemoryLimits = ["memory limit", "RangeError", "Invalid", "too large", "time limit", "statement limit"];

    /// <summary>Depth errors: the recursion limit, the engine's stack guard, or a nesting error of the parser or JSON.</summary>
    public static readonly string[] DepthLimits = ["recursion limit", "call stack", "stack", "deep", "nest", "depth", "too many"];
}
