using System.Collections.Concurrent;

namespace Rlm.Tools;

/// <summary>
/// The counters of one run, updated from many threads (parallel calls and sub-calls) and read once at the end into
/// <see cref="RlmStatistics"/>. Counting only: budgets and usage live in the run budget.
/// </summary>
internal sealed class RunStatistics
{
    private readonly ConcurrentDictionary<string, int> _toolCalls = new(StringComparer.Ordinal);
    private int _iterations;
    private int _modelCalls;
    private int _modelRetries;
    private int _failedModelCalls;
    private int _subCalls;
    private int _failedSubCalls;
    private int _memoizedSubCalls;
    private int _compactions;
    private int _maxDepthReached;
    private int _refusedFunctionCalls;
    private int _droppedTraceNodes;
    private int _answerFormatRetries;
    private int _splitSubCalls;
    private int _refusedSubCallBatches;

    public void RecordIteration() => Interlocked.Increment(ref _iterations);

    public void RecordModelCall() => Interlocked.Increment(ref _modelCalls);

    public void RecordModelRetry() => Interlocked.Increment(ref _modelRetries);

    public void RecordFailedModelCall() => Interlocked.Increment(ref _failedModelCalls);

    /// <summary>Counts a sub-call that got its budget and starts at <paramref name="depth"/>.</summary>
    public void RecordSubCall(int depth)
    {
        Interlocked.Increment(ref _subCalls);
        RlmTelemetry.SubCalls.Add(1);
        Context.TextLimits.InterlockedMax(ref _maxDepthReached, depth);
    }

    public void RecordFailedSubCall() => Interlocked.Increment(ref _failedSubCalls);

    public void RecordMemoizedSubCall() => Interlocked.Increment(ref _memoizedSubCalls);

    public void RecordCompaction() => Interlocked.Increment(ref _compactions);

    /// <summary>Counts calls of one reply that were not run (over <see cref="RlmOptions.MaxFunctionCallsPerReply"/>).</summary>
    public void RecordRefusedFunctionCalls(int count) => Interlocked.Add(ref _refusedFunctionCalls, count);

    public void RecordDroppedTraceNode() => Interlocked.Increment(ref _droppedTraceNodes);

    /// <summary>Counts a typed final answer sent back to the root model because it did not match the schema.</summary>
    public void RecordAnswerFormatRetry() => Interlocked.Increment(ref _answerFormatRetries);

    /// <summary>Counts a sub-call whose slice was split to fit its worker's window.</summary>
    public void RecordSplitSubCall() => Interlocked.Increment(ref _splitSubCalls);

    /// <summary>Counts a batch of sub-calls refused as a whole (estimated over the remaining budget).</summary>
    public void RecordRefusedSubCallBatch() => Interlocked.Increment(ref _refusedSubCallBatches);

    /// <summary>Counts a call of a tool (or of a JavaScript helper such as <c>llm_query</c>) by name.</summary>
    public void RecordToolCall(string name)
    {
        _toolCalls.AddOrUpdate(name, 1, static (_, n) => n + 1);
        RlmTelemetry.ToolCalls.Add(1, new KeyValuePair<string, object?>("gen_ai.tool.name", name));
    }

    /// <summary>Reads the counters into the public shape.</summary>
    public RlmStatistics Snapshot(int rootIterations, int peakConcurrency, TimeSpan wallTime) => new()
    {
        Iterations = Volatile.Read(ref _iterations),
        RootIterations = rootIterations,
        ModelCalls = Volatile.Read(ref _modelCalls),
        ModelRetries = Volatile.Read(ref _modelRetries),
        FailedModelCalls = Volatile.Read(ref _failedModelCalls),
        SubCalls = Volatile.Read(ref _subCalls),
        FailedSubCalls = Volatile.Read(ref _failedSubCalls),
        MemoizedSubCalls = Volatile.Read(ref _memoizedSubCalls),
        Compactions = Volatile.Read(ref _compactions),
        MaxDepthReached = Volatile.Read(ref _maxDepthReached),
        ToolCalls = new SortedDictionary<string, int>(_toolCalls, StringComparer.Ordinal),
        PeakConcurrency = peakConcurrency,
        RefusedFunctionCalls = Volatile.Read(ref _refusedFunctionCalls),
        DroppedTraceNodes = Volatile.Read(ref _droppedTraceNodes),
        AnswerFormatRetries = Volatile.Read(ref _answerFormatRetries),
        SplitSubCalls = Volatile.Read(ref _splitSubCalls),
        RefusedSubCallBatches = Volatile.Read(ref _refusedSubCallBatches),
        WallTime = wallTime,
    };
}
