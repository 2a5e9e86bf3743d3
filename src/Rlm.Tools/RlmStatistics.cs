namespace Rlm.Tools;

/// <summary>Counts of one run, over every session at every depth.</summary>
public sealed class RlmStatistics
{
    /// <summary>Gets the model turns taken by all sessions (root and recursive workers); leaf completions are not iterations.</summary>
    public int Iterations { get; init; }

    /// <summary>Gets the model turns taken by the root session.</summary>
    public int RootIterations { get; init; }

    /// <summary>Gets every model request made (iterations, nudges, last calls, leaf completions).</summary>
    public int ModelCalls { get; init; }

    /// <summary>Gets the sub-calls started (<c>sub_llm</c>, <c>llm_query</c>, each prompt of <c>llm_query_batched</c>).</summary>
    public int SubCalls { get; init; }

    /// <summary>Gets the sub-calls that ended in an error returned to their parent.</summary>
    public int FailedSubCalls { get; init; }

    /// <summary>Gets the deepest depth any session or leaf ran at (0 when no sub-call ran).</summary>
    public int MaxDepthReached { get; init; }

    /// <summary>Gets the number of calls per tool name, at all depths, sorted by name.</summary>
    public IReadOnlyDictionary<string, int> ToolCalls { get; init; } = new Dictionary<string, int>();

    /// <summary>Gets the most model requests that were in flight at the same moment.</summary>
    public int PeakConcurrency { get; init; }

    /// <summary>Gets the wall time of the run.</summary>
    public TimeSpan WallTime { get; init; }
}
