using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Rlm.Tools.Eval.Model;

/// <summary>
/// One generated task: a line of <c>tasks.jsonl</c>. The context is either inline (<see cref="Context"/>) or in a side
/// file (<see cref="ContextFile"/>, relative to the directory of the tasks file).
/// </summary>
public sealed class EvalTask
{
    public required string Id { get; init; }

    public required string Family { get; init; }

    /// <summary>The requested context length in tokens (tokens ≈ characters / 4).</summary>
    public required int TargetTokens { get; init; }

    /// <summary>The seed the task was generated from.</summary>
    public required long Seed { get; init; }

    /// <summary>Identifies the context; tasks that share a context share this id.</summary>
    public required string ContextId { get; init; }

    /// <summary>The context's length in characters.</summary>
    public required int ContextChars { get; init; }

    /// <summary>The context inline, or <see langword="null"/> when it lives in <see cref="ContextFile"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Context { get; set; }

    /// <summary>The path of the context's side file, relative to the tasks file's directory (forward slashes).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ContextFile { get; set; }

    public required string Question { get; init; }

    /// <summary>The exact gold answer (for pairs: one <c>(id1, id2)</c> per line, sorted).</summary>
    public required string Gold { get; init; }

    /// <summary>One of <see cref="AnswerTypes"/>.</summary>
    public required string AnswerType { get; init; }

    /// <summary>Family-specific details (question kind, depth, counts, …).</summary>
    public JsonObject Metadata { get; init; } = [];
}
