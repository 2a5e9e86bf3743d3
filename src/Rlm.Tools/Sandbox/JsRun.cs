using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// The state of one <c>exec_js</c> call on its script thread: output, the caller's cancellation, the wall-time
/// deadline and the memory limit. <see cref="Tick"/> runs at every loop iteration and function entry (see
/// <see cref="JsInstrumenter"/>).
/// </summary>
/// <remarks>
/// <para><b>Memory.</b> Jint 2.10.4 has no memory limit. Allocation is cheap to watch but not what matters: Jint 2
/// allocates hundreds of bytes per loop iteration, so a budget of allocated bytes would stop ordinary loops. The
/// limit is on what the call keeps: when the script thread has allocated another slice of the limit (at most the
/// limit, at least an eighth of it), the tick forces a full garbage collection and measures how far the live heap has
/// grown since the call started; more than the limit stops the script. Growth can only come from allocation, so no
/// growth beyond the limit plus one slice (and the last statement's allocation) goes unseen.</para>
/// <para>The heap is the process's: data other threads keep during the call counts too, and garbage present when
/// the call started can hide as much growth. Those are the limits of measuring without a per-engine allocator.</para>
/// </remarks>
internal sealed class JsRun
{
    private readonly JsLimits _limits;
    private readonly long _startTimestamp;
    private long _heapBaseline;
    private long _nextMemoryCheck;
    private long _hostWaitTicks;

    public JsRun(JsLimits limits, CancellationToken cancellationToken)
    {
        _limits = limits;
        CancellationToken = cancellationToken;
        Output = new JsOutputBuffer(limits.MaxOutputChars);
        _startTimestamp = Stopwatch.GetTimestamp();
        _heapBaseline = GC.GetTotalMemory(forceFullCollection: false);
        _nextMemoryCheck = SaturatingAdd(GC.GetAllocatedBytesForCurrentThread(), limits.MemoryLimitBytes);
    }

    /// <summary>Gets the token that stops the script: the caller's, linked with the sandbox's disposal.</summary>
    public CancellationToken CancellationToken { get; }

    public JsOutputBuffer Output { get; }

    /// <summary>
    /// Gets the script time left before the time limit (zero when spent). Time spent waiting on the host
    /// (<c>llm_query</c>, <c>llm_query_batched</c>) does not count: a model may take minutes, and those waits are bounded by
    /// the run's sub-call budget and the caller's cancellation instead.
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

    /// <summary>Checks cancellation, stack room, wall time and memory; throws when one is exceeded.</summary>
    public void Tick()
    {
        CancellationToken.ThrowIfCancellationRequested();
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            // Recursion Jint does not count (getters, toString, callbacks of built-ins) reaches here before the stack ends.
            throw JsLimitExceededException.Recursion(_limits);
        }

        if (Remaining == TimeSpan.Zero)
        {
            throw JsLimitExceededException.Time(_limits);
        }

        if (GC.GetAllocatedBytesForCurrentThread() >= _nextMemoryCheck)
        {
            CheckMemory();
        }
    }

    private void CheckMemory()
    {
        GC.Collect();
        long live = GC.GetTotalMemory(forceFullCollection: false);

        // Garbage counted in the baseline has now been collected: the lower figure is closer to the true start.
        _heapBaseline = Math.Min(_heapBaseline, live);
        long growth = live - _heapBaseline;
        if (growth > _limits.MemoryLimitBytes)
        {
            throw JsLimitExceededException.Memory(_limits);
        }

        _nextMemoryCheck = SaturatingAdd(GC.GetAllocatedBytesForCurrentThread(), Math.Max(_limits.MemoryLimitBytes - growth, _limits.MemoryLimitBytes / 8));
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}

/// <summary>A limit of <see cref="JsLimits"/> stopped the script; the message names it and its value.</summary>
internal sealed class JsLimitExceededException(string message) : Exception(message)
{
    private const string KeptNote = " Globals the script assigned before it stopped keep their values.";

    public static JsLimitExceededException Time(JsLimits limits) =>
        new($"time limit of {FormatDuration(limits.Timeout)} exceeded.{KeptNote} Do less per call (time spent waiting on llm_query does not count).");

    public static JsLimitExceededException Statements(JsLimits limits) =>
        new(string.Create(CultureInfo.InvariantCulture, $"statement limit of {limits.MaxStatements:N0} exceeded (an endless loop?).{KeptNote}"));

    public static JsLimitExceededException Recursion(JsLimits limits) =>
        new(string.Create(CultureInfo.InvariantCulture, $"recursion limit of {limits.MaxRecursionDepth:N0} exceeded (unbounded recursion?).{KeptNote} Use a loop instead of deep recursion."));

    public static JsLimitExceededException Memory(JsLimits limits) =>
        new($"memory limit of {FormatBytes(limits.MemoryLimitBytes)} exceeded: the script kept more than that in memory.{KeptNote} Set large variables to null to free their memory; work on slices of the context instead of copies of all of it.");

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
