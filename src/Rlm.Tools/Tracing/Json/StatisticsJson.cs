using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rlm.Tools.Json;

/// <summary>The <c>statistics</c> object of a run (<see cref="RlmStatistics"/>); times in milliseconds.</summary>
internal sealed record StatisticsJson
{
    public int Iterations { get; init; }

    public int RootIterations { get; init; }

    public int ModelCalls { get; init; }

    public int ModelRetries { get; init; }

    public int FailedModelCalls { get; init; }

    public int SubCalls { get; init; }

    public int FailedSubCalls { get; init; }

    public int MemoizedSubCalls { get; init; }

    /// <summary><see cref="RlmResult.AllSubCallsFailed"/>.</summary>
    public bool AllSubCallsFailed { get; init; }

    public int Compactions { get; init; }

    public int MaxDepthReached { get; init; }

    public int PeakConcurrency { get; init; }

    /// <summary><see cref="RlmStatistics.RefusedFunctionCalls"/>.</summary>
    public int RefusedFunctionCalls { get; init; }

    /// <summary><see cref="RlmStatistics.DroppedTraceNodes"/>.</summary>
    public int DroppedTraceNodes { get; init; }

    /// <summary><see cref="RlmStatistics.SplitSubCalls"/>.</summary>
    public int SplitSubCalls { get; init; }

    /// <summary><see cref="RlmStatistics.RefusedSubCallBatches"/>.</summary>
    public int RefusedSubCallBatches { get; init; }

    /// <summary>The run's wall time in milliseconds, to 0.1 ms.</summary>
    public double WallTimeMs { get; init; }

    /// <summary>The sum of <see cref="ToolCalls"/>.</summary>
    public int ToolCallsTotal { get; init; }

    /// <summary>Tool calls by tool name, in ordinal order.</summary>
    public SortedDictionary<string, int> ToolCalls { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Keys this version does not know (a newer writer's, or an older one's before they are moved).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    public static StatisticsJson From(RlmResult result)
    {
        var s = result.Statistics;
        return new StatisticsJson
        {
            Iterations = s.Iterations,
            RootIterations = s.RootIterations,
            ModelCalls = s.ModelCalls,
            ModelRetries = s.ModelRetries,
            FailedModelCalls = s.FailedModelCalls,
            SubCalls = s.SubCalls,
            FailedSubCalls = s.FailedSubCalls,
            MemoizedSubCalls = s.MemoizedSubCalls,
            AllSubCallsFailed = result.AllSubCallsFailed,
            Compactions = s.Compactions,
            MaxDepthReached = s.MaxDepthReached,
            PeakConcurrency = s.PeakConcurrency,
            RefusedFunctionCalls = s.RefusedFunctionCalls,
            DroppedTraceNodes = s.DroppedTraceNodes,
            SplitSubCalls = s.SplitSubCalls,
            RefusedSubCallBatches = s.RefusedSubCallBatches,
            WallTimeMs = Math.Round(s.WallTime.TotalMilliseconds, 1),
            ToolCallsTotal = s.ToolCalls.Values.Sum(),
            ToolCalls = new(s.ToolCalls.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal),
        };
    }
}
