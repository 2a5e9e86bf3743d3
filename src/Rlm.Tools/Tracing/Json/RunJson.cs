using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rlm.Tools.Json;

/// <summary>
/// A run: the whole <c>rlm --json</c> document (format <see cref="RlmJson.ResultFormat"/>, with <c>models</c>,
/// <c>input</c> and the <c>trajectory</c> tree), or the first line of a JSON Lines trajectory (format
/// <see cref="RlmJson.TrajectoryFormat"/>, <c>type</c> <c>run</c>, with <c>sensitive</c>). One type, so that both name
/// every shared key alike.
/// </summary>
internal sealed record RunJson
{
    /// <summary><c>run</c> on a trajectory's first line; absent in <c>rlm --json</c>.</summary>
    public string? Type { get; init; }

    public string Format { get; init; } = "";

    public int Version { get; init; }

    public RlmStopReason StopReason { get; init; }

    public bool IsFinal { get; init; }

    /// <summary>Whether a trajectory holds sensitive text (question, answer, excerpts, arguments); absent in <c>rlm --json</c>.</summary>
    public bool? Sensitive { get; init; }

    /// <summary>The question; in a trajectory only with sensitive data.</summary>
    public string? Question { get; init; }

    /// <summary>The answer; always in <c>rlm --json</c>, in a trajectory only with sensitive data.</summary>
    public string? Answer { get; init; }

    /// <summary><c>rlm --json --output-schema</c>: the answer parsed as JSON, valid against the schema; absent otherwise.</summary>
    public System.Text.Json.JsonElement? Value { get; init; }

    /// <summary>The answer's checked citations (<see cref="RlmResult.Citations"/>); always in <c>rlm --json</c>, in a trajectory only with sensitive data.</summary>
    public List<CitationJson>? Citations { get; init; }

    /// <summary>Why the run stopped without a final answer (<see cref="RlmResult.StopMessage"/>); absent for a final answer.</summary>
    public string? StopMessage { get; init; }

    /// <summary>The error that ended a failed run (the model endpoint failed, canceled, a bug), one line; absent when the run ended normally.</summary>
    public string? Error { get; init; }

    /// <summary>The run's cost in US dollars; written as <see langword="null"/> when a model used has no price.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public decimal? CostUsd { get; init; }

    /// <summary>Why <see cref="CostUsd"/> is null: the models without a price and where a price is set; absent when there is a cost.</summary>
    public string? CostNote { get; init; }

    public ModelsJson? Models { get; init; }

    public InputJson? Input { get; init; }

    public UsageJson Usage { get; init; } = new(0, 0, 0, 0);

    public SortedDictionary<string, UsageJson> UsageByModel { get; init; } = new(StringComparer.Ordinal);

    public StatisticsJson Statistics { get; init; } = new();

    /// <summary>The call tree, in <c>rlm --json</c>; a trajectory file has one line per node instead.</summary>
    public TraceNodeJson? Trajectory { get; init; }

    /// <summary>Keys this version does not know.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
