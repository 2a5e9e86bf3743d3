using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Rlm.Tools.Eval.Model;

/// <summary>Token usage of one model.</summary>
public sealed class TokenUsage
{
    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }
}

/// <summary>One line of <c>results.jsonl</c>: the outcome of running one task.</summary>
public sealed class EvalResult
{
    /// <summary>The <see cref="StopReason"/> of a direct-mode result: the model was asked once, without tools.</summary>
    public const string DirectStopReason = "direct";

    public required string TaskId { get; init; }

    public required string Family { get; init; }

    /// <summary><c>rlm</c>, <c>direct</c> or <c>offline</c>.</summary>
    public required string Mode { get; init; }

    /// <summary>The root (or only) model id.</summary>
    public required string Model { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkerModel { get; init; }

    public int TargetTokens { get; init; }

    public int ContextChars { get; init; }

    /// <summary>The question kind from the task's metadata, when it has one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Kind { get; init; }

    public string Answer { get; set; } = "";

    public required string Gold { get; init; }

    public required string AnswerType { get; init; }

    public double Score { get; set; }

    /// <summary>Set when the run failed (exception); such results are retried when a run resumes.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; set; }

    /// <summary>
    /// The engine's stop reason by its name in <see cref="RlmStopReasonText"/>, as <c>rlm --json</c> and trajectories write
    /// it (<c>final</c>, <c>final_var</c>, <c>text_reply</c>, <c>iteration_limit</c>, …), or <see cref="DirectStopReason"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? StopReason { get; set; }

    /// <summary>Direct mode only: whether the context was cut to fit the window.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Cut { get; set; }

    /// <summary>Direct mode only: the characters of context actually sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ContextCharsSent { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public SortedDictionary<string, TokenUsage> UsageByModel { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Estimated cost in US dollars; <see langword="null"/> when any model used has no price.</summary>
    public double? CostUsd { get; set; }

    /// <summary>The task's wall time in milliseconds (the model run and the scoring), to 0.1 ms.</summary>
    public double WallTimeMs { get; set; }

    /// <summary>Reads the wall time of results files written before <see cref="WallTimeMs"/>, in seconds.</summary>
    [JsonPropertyName("wall_seconds")]
    public double LegacyWallSeconds { set => WallTimeMs = Math.Round(value * 1000, 1); }

    public int ModelCalls { get; set; }

    public int SubCalls { get; set; }

    public int FailedSubCalls { get; set; }

    public int MaxDepthReached { get; set; }

    /// <summary>Reads the depth of results files written before <see cref="MaxDepthReached"/>.</summary>
    [JsonPropertyName("max_depth")]
    public int LegacyMaxDepth { set => MaxDepthReached = value; }

    public int Iterations { get; set; }

    /// <summary>How many citations the final answer had (<see cref="RlmResult.Citations"/>); <see langword="null"/> in direct mode.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Citations { get; set; }

    /// <summary>How many of <see cref="Citations"/> the host verified against the context.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? VerifiedCitations { get; set; }

    public SortedDictionary<string, int> ToolCalls { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The run's trajectory (JSON Lines, <see cref="RlmTrajectoryWriter"/>), relative to the results file's folder with
    /// <c>/</c> separators, for example <c>results.trajectories/s-niah-8k-001.jsonl</c>; <c>rlm view</c> renders it.
    /// <see langword="null"/> in direct mode and when the run left no result (a timeout).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Trajectory { get; set; }

    /// <summary>Scorer details (parsed answer, precision/recall, …).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonObject? ScoreDetails { get; set; }

    public DateTimeOffset FinishedAt { get; set; }
}
