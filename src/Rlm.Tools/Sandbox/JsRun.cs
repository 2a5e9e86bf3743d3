using System.Diagnostics;
using System.Globalization;
using Jint;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// The state of one <c>exec_js</c> call on its script thread: output, the caller's cancellation, and the script-time
/// clock, which stops while the script waits on the host (<c>llm_query</c>).
/// </summary>
internal sealed class JsRun
{
    private readonly JsLimits _limits;
    private readonly long _startTimestamp;
    private long _hostWaitTicks;

    public JsRun(JsLimits limits, CancellationToken cancellationToken)
    {
        _limits = limits;
        CancellationToken = cancellationToken;
        Output = new JsOutputBuffer(limits.MaxOutputChars);
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>Gets the token that stops the script: the caller's, linked with the sandbox's disposal.</summary>
    public CancellationToken CancellationToken { get; }

    public JsOutputBuffer Output { get; }

    /// <summary>
    /// Gets the script time left before the time limit (zero when spent). Time spent waiting on a model for the host
    /// (<c>llm_query</c>, <c>llm_query_batched</c>) does not count: a model may take minutes, and those waits are bounded by
    /// the run's sub-call budget and the caller's cancellation instead. A host call answered at once counts.
    /// </summary>
    public TimeSpan Remaining
    {
        get
        {
            var left = _limits.Timeout - (Stopwatch.GetElapsedTime(_startTimestamp) - TimeSpan.FromTicks(Interlocked.Read(ref _hostWaitTicks)));
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>Takes a host wait of <paramref name="duration"/> out of the script's time.</summary>
    public void ExcludeHostWait(TimeSpan duration) => Interlocked.Add(ref _hostWaitTicks, duration.Ticks);
}

/// <summary>
/// The sandbox's own Jint <see cref="Constraint"/>: script time without host waits, the caller's cancellation, and
/// memory kept by the session. Jint checks constraints before statements and inside long-running built-ins
/// (<c>forEach</c> over a huge sparse array, <c>Array.apply</c>), so each check below takes effect there too.
/// </summary>
/// <remarks>
/// <para>Why not Jint's <c>TimeoutInterval</c> and <c>LimitMemory</c>: the first is a wall clock, which would count the
/// minutes a script waits on <c>llm_query</c>; the second counts what one call allocates, garbage included, so
/// ordinary text processing over a large context (<c>context.split('\n')</c>) would trip it, and it resets with every
/// call, so globals that ten calls each keep would never add up.</para>
/// <para><b>Memory.</b> The limit is on what the session keeps: live heap growth since the session's engine was created
/// (measured after a full collection), less the session's copy of <c>context</c>. A full collection costs time, so it
/// runs only each time the script thread has allocated another slice (what is left of the limit, at least an eighth of
/// it). Growth can only come from allocation, so none beyond the limit plus one slice goes unseen, even inside one
/// built-in call. The heap is the process's: memory that other threads keep during the call counts too, and a busy
/// host with many concurrent scripts should budget for that (or lower the limit).</para>
/// </remarks>
internal sealed class SandboxConstraint : Constraint
{
    private readonly JsLimits _limits;
    private long _heapBaseline;
    private long _nextMemoryCheck;
    private long _callStartAllocated;

    public SandboxConstraint(JsLimits limits)
    {
        _limits = limits;
        _heapBaseline = GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>Gets or sets the running call (set by the sandbox on the script thread before it runs a script).</summary>
    public JsRun? Run { get; set; }

    /// <summary>Gets or sets bytes of the heap the session's <c>context</c> string holds (not counted against the limit).</summary>
    public long ExcludedBytes { get; set; }

    /// <summary>Arms the memory check for a new call on the current (script) thread.</summary>
    public void BeginCall()
    {
        _callStartAllocated = GC.GetAllocatedBytesForCurrentThread();
        _nextMemoryCheck = SaturatingAdd(_callStartAllocated, Math.Max(_limits.MemoryLimitBytes / 8, 1));
    }

    /// <summary>Measures what the session keeps when the call allocated at least an eighth of the limit.</summary>
    public void EndCall()
    {
        if (GC.GetAllocatedBytesForCurrentThread() - _callStartAllocated >= _limits.MemoryLimitBytes / 8)
        {
            CheckMemory();
        }
    }

    public override void Check()
    {
        var run = Run;
        if (run is null)
        {
            return;
        }

        run.CancellationToken.ThrowIfCancellationRequested();
        if (run.Remaining == TimeSpan.Zero)
        {
            throw JsLimitExceededException.Time(_limits);
        }

        if (GC.GetAllocatedBytesForCurrentThread() >= _nextMemoryCheck)
        {
            CheckMemory();
        }
    }

    public override void Reset()
    {
    }

    /// <summary>Measures what the session keeps now; throws when it is over the limit.</summary>
    public void CheckMemory()
    {
        // Blocking but not compacting: the live size is what matters, and compaction would double the pause.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        long live = GC.GetTotalMemory(forceFullCollection: false);

        // Garbage counted in the baseline has now been collected: the lower figure is closer to the true start.
        _heapBaseline = Math.Min(_heapBaseline, live);
        long kept = live - _heapBaseline - ExcludedBytes;
        if (kept > _limits.MemoryLimitBytes)
        {
            throw JsLimitExceededException.Memory(_limits);
        }

        _nextMemoryCheck = SaturatingAdd(GC.GetAllocatedBytesForCurrentThread(), Math.Max(_limits.MemoryLimitBytes - Math.Max(kept, 0), _limits.MemoryLimitBytes / 8));
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}

/// <summary>A limit of <see cref="JsLimits"/> stopped the script; the message names it and its value.</summary>
internal sealed class JsLimitExceededException(string message) : Exception(message)
{
    private const string KeptNote = " Globals the script assigned before it stopped keep their values.";

    public static JsLimitExceededException Time(JsLimits limits) =>
        new($"time limit of {FormatDuration(limits.Timeout)} exceeded.{KeptNote} Do less per call (time spent waiting on a model for llm_query does not count).");

    public static JsLimitExceededException Statements(JsLimits limits) =>
        new(string.Create(CultureInfo.InvariantCulture, $"statement limit of {limits.MaxStatements:N0} exceeded (an endless loop?).{KeptNote}"));

    public static JsLimitExceededException Recursion(JsLimits limits) =>
        new(string.Create(CultureInfo.InvariantCulture, $"recursion limit exceeded: the call stack went deeper than {limits.MaxRecursionDepth:N0} calls or than the stack allows (unbounded recursion, or a structure nested too deeply).{KeptNote} Use a loop instead of deep recursion."));

    public static JsLimitExceededException Memory(JsLimits limits) =>
        new($"memory limit of {FormatBytes(limits.MemoryLimitBytes)} exceeded: the session keeps more than that in memory (globals of earlier calls count).{KeptNote} Set large variables to null to free their memory; work on slices of the context instead of copies of all of it.");

    public static string FormatDuration(TimeSpan value) =>
        value.TotalSeconds >= 1 || value == TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:#,0.###} s")
            : string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.###} ms");

    public static string FormatBytes(long bytes)
    {
        const long KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
        return bytes switch
        {
            >= GiB when bytes % GiB == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / GiB:N0} GiB"),
            >= MiB when bytes % MiB == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / MiB:N0} MiB"),
            >= KiB when bytes % KiB == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / KiB:N0} KiB"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes"),
        };
    }
}
