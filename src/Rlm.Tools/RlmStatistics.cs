namespace Rlm.Tools;

/// <summary>Counts of one run, over every session at every depth.</summary>
public sealed class RlmStatistics
{
    /// <summary>Gets the model turns taken by all sessions (root and recursive workers); leaf completions are not iterations.</summary>
    public int Iterations { get; init; }

    /// <summary>Gets the model turns taken by the root session.</summary>
    public int RootIterations { get; init; }

    /// <summary>Gets every model request sent (iterations, nudges, last calls, leaf completions), each retry counted.</summary>
    public int ModelCalls { get; init; }

    /// <summary>Gets how many of <see cref="ModelCalls"/> were retries of a failed attempt.</summary>
    public int ModelRetries { get; init; }

    /// <summary>Gets the model requests that failed for good (after their retries); a failed worker request fails its sub-call.</summary>
    public int FailedModelCalls { get; init; }

    /// <summary>Gets the sub-calls started (<c>sub_llm</c>, <c>llm_query</c>, each prompt of <c>llm_query_batched</c>); a sub-call answered by an identical one is in <see cref="MemoizedSubCalls"/> instead (both use <see cref="RlmOptions.MaxSubCalls"/>).</summary>
    public int SubCalls { get; init; }

    /// <summary>Gets the sub-calls that ended in an error returned to their parent (a worker request that failed for good, an empty worker answer, a failed recursive session).</summary>
    public int FailedSubCalls { get; init; }

    /// <summary>Gets the sub-calls answered from an identical earlier or concurrent sub-call of the run (<see cref="RlmOptions.MemoizeSubCalls"/>); they are not in <see cref="SubCalls"/>.</summary>
    public int MemoizedSubCalls { get; init; }

    /// <summary>Gets how many times a session's conversation was compacted (<see cref="RlmOptions.MaxConversationChars"/>), by a summary or, failing that, by cutting old tool results.</summary>
    public int Compactions { get; init; }

    /// <summary>Gets the deepest depth any session or leaf ran at (0 when no sub-call ran).</summary>
    public int MaxDepthReached { get; init; }

    /// <summary>Gets the number of calls per tool name, at all depths, sorted by name; calls not run because their reply had too many are in <see cref="RefusedFunctionCalls"/> instead.</summary>
    public IReadOnlyDictionary<string, int> ToolCalls { get; init; } = new Dictionary<string, int>();

    /// <summary>Gets the most model requests that were in flight at the same moment.</summary>
    public int PeakConcurrency { get; init; }

    /// <summary>Gets the function calls of model replies that were not run because their reply had more than <see cref="RlmOptions.MaxFunctionCallsPerReply"/> (each got an error result instead).</summary>
    public int RefusedFunctionCalls { get; init; }

    /// <summary>Gets the trace nodes left out of <see cref="RlmResult.Trajectory"/> because the run had more than <see cref="RlmOptions.MaxTraceNodes"/>.</summary>
    public int DroppedTraceNodes { get; init; }

    /// <summary>
    /// Gets how many final answers of a typed query (<see cref="RecursiveLanguageModel.QueryAsync{T}(string, string, CancellationToken)"/>)
    /// went back to the root model because they did not match the answer's schema; at most <see cref="RlmOptions.MaxAnswerFormatRetries"/>.
    /// </summary>
    public int AnswerFormatRetries { get; init; }

    /// <summary>
    /// Gets the sub-calls whose slice was over the worker's context window and was split into parts
    /// (<see cref="RlmOptions.AutoSplitOversizedSubCalls"/>); each part is one of <see cref="SubCalls"/>.
    /// </summary>
    public int SplitSubCalls { get; init; }

    /// <summary>
    /// Gets the batches of sub-calls (several <c>sub_llm</c> calls of one reply, or one <c>llm_query_batched</c>) refused
    /// as a whole, unsent, because their estimated tokens or cost exceeded what remained of the run's budget
    /// (see <see cref="RlmSubCallBatchRefused"/>).
    /// </summary>
    public int RefusedSubCallBatches { get; init; }

    /// <summary>Gets the wall time of the run.</summary>
    public TimeSpan WallTime { get; init; }
}
