namespace Rlm.Tools;

/// <summary>
/// One node of a run's trajectory: a session, a model call, a tool call, or a leaf completion. Tool calls of one model
/// reply are children of that model call; a <c>sub_llm</c> tool call holds the sub-call's session or leaf node.
/// </summary>
public sealed class RlmTraceNode
{
    private readonly List<RlmTraceNode> _children = [];

    internal RlmTraceNode(RlmTraceKind kind, string label, int depth, TimeSpan startedAt)
    {
        Kind = kind;
        Label = label;
        Depth = depth;
        StartedAt = startedAt;
    }

    /// <summary>Gets what the node stands for.</summary>
    public RlmTraceKind Kind { get; }

    /// <summary>Gets a short label, for example <c>grep(pattern="error")</c> or <c>model call #2 (root)</c>.</summary>
    public string Label { get; }

    /// <summary>Gets the depth of the session the node belongs to (root = 0).</summary>
    public int Depth { get; }

    /// <summary>Gets when the node started, measured from the start of the run.</summary>
    public TimeSpan StartedAt { get; }

    /// <summary>Gets how long the node took (zero until it ends).</summary>
    public TimeSpan Duration { get; private set; }

    /// <summary>Gets a one-line summary of the outcome (a tool result's first characters, a session's answer), or <see langword="null"/>.</summary>
    public string? Summary { get; private set; }

    /// <summary>Gets whether the node ended in an error (a tool error or a failed sub-call).</summary>
    public bool IsError { get; private set; }

    /// <summary>Whether a tool call names a tool the model was never given; trajectories without sensitive data label it <c>unknown</c>.</summary>
    internal bool IsUnknownTool { get; set; }

    /// <summary>Gets the child nodes in the order they started.</summary>
    public IReadOnlyList<RlmTraceNode> Children
    {
        get
        {
            lock (_children)
            {
                return [.. _children];
            }
        }
    }

    internal RlmTraceNode AddChild(RlmTraceKind kind, string label, int depth, TimeSpan startedAt)
    {
        var child = new RlmTraceNode(kind, label, depth, startedAt);
        lock (_children)
        {
            _children.Add(child);
        }

        return child;
    }

    /// <summary>Gets the model id of a model call or leaf (the id the response reported, else the one requested); <see langword="null"/> for other nodes.</summary>
    public string? ModelId { get; private set; }

    /// <summary>Gets the token usage of a model call or leaf, when the provider reported it.</summary>
    public Microsoft.Extensions.AI.UsageDetails? Usage { get; private set; }

    /// <summary>Gets the cost in USD of a model call or leaf, when its model has a price (<see cref="RlmOptions.Prices"/>).</summary>
    public decimal? CostUsd { get; private set; }

    internal void SetModelUsage(string? modelId, Microsoft.Extensions.AI.UsageDetails? usage, decimal? costUsd)
    {
        ModelId = modelId;
        Usage = usage;
        CostUsd = costUsd;
    }

    internal void Complete(TimeSpan endedAt, string? summary, bool isError = false)
    {
        Duration = endedAt - StartedAt;
        Summary = summary;
        IsError = isError;
    }
}

/// <summary>The kinds of <see cref="RlmTraceNode"/>.</summary>
public enum RlmTraceKind
{
    /// <summary>A session with tools: the root (depth 0) or a recursive sub-call.</summary>
    Session,

    /// <summary>One request to a model inside a session.</summary>
    ModelCall,

    /// <summary>One function call the model made.</summary>
    ToolCall,

    /// <summary>A leaf completion: a sub-call at the maximum depth, one plain model request over a slice.</summary>
    Leaf,
}
