using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rlm.Tools.Json;

/// <summary>
/// One node of a trajectory (<see cref="RlmTraceNode"/>): a line of the JSON Lines trajectory (<c>type</c> <c>node</c>,
/// <c>parent_id</c>, no <c>children</c>), or a node of the tree in <c>rlm --json</c> (<c>children</c>, no <c>type</c>).
/// Times are milliseconds from the start of the run, to 0.1 ms.
/// </summary>
internal sealed record TraceNodeJson
{
    /// <summary><c>node</c> on a trajectory line; absent in the tree.</summary>
    [JsonPropertyOrder(-1)]
    public string? Type { get; init; }

    /// <summary>The node's id, from 1 in depth-first order (parents first).</summary>
    [JsonRequired]
    public int Id { get; init; }

    /// <summary>The parent's id; <see langword="null"/>, and written so, for the root session.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int? ParentId { get; init; }

    [JsonRequired]
    public RlmTraceKind Kind { get; init; }

    [JsonRequired]
    public string Label { get; init; } = "";

    public int Depth { get; init; }

    public double StartedMs { get; init; }

    public double DurationMs { get; init; }

    public bool IsError { get; init; }

    /// <summary>The model id of a model call or leaf, when known.</summary>
    public string? Model { get; init; }

    /// <summary>The usage of a model call or leaf, when the provider reported it.</summary>
    public UsageJson? Usage { get; init; }

    /// <summary>The cost in US dollars of a model call or leaf, when its model has a price.</summary>
    public decimal? CostUsd { get; init; }

    /// <summary>A result excerpt; only with sensitive data.</summary>
    public string? Summary { get; init; }

    /// <summary>The child nodes in the tree (empty for a leaf of the tree); absent on trajectory lines.</summary>
    public List<TraceNodeJson>? Children { get; init; }

    /// <summary>Keys this version does not know.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    /// <summary>The node without its children, as a trajectory line.</summary>
    public static TraceNodeJson From(RlmTraceNode node, int id, int? parentId, bool sensitive) => new()
    {
        Id = id,
        ParentId = parentId,
        Kind = node.Kind,
        Label = sensitive ? node.Label : RedactLabel(node),
        Depth = node.Depth,
        StartedMs = Math.Round(node.StartedAt.TotalMilliseconds, 1),
        DurationMs = Math.Round(node.Duration.TotalMilliseconds, 1),
        IsError = node.IsError,
        Model = node.ModelId,
        Usage = node.Usage is { } usage ? UsageJson.From(usage) : null,
        CostUsd = node.CostUsd,
        Summary = sensitive ? node.Summary : null,
    };

    // A tool call's label is name(arguments): the arguments are model text that may quote the context.
    private static string RedactLabel(RlmTraceNode node)
    {
        if (node.Kind != RlmTraceKind.ToolCall)
        {
            return node.Label;
        }

        if (node.IsUnknownTool)
        {
            return RunObserver.UnknownToolName + "(…)"; // a name the model invented is model text too
        }

        int paren = node.Label.IndexOf('(', StringComparison.Ordinal);
        return paren < 0 ? node.Label : string.Concat(node.Label.AsSpan(0, paren), "(…)");
    }
}
