using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rlm.Tools.Json;

/// <summary>
/// Builds and writes the JSON documents of a run through <see cref="RlmJsonContext"/>: the <c>rlm --json</c> result and
/// the lines of a trajectory. docs/schema holds their JSON Schemas.
/// </summary>
internal static class RlmJson
{
    /// <summary>The <c>format</c> of an <c>rlm --json</c> document.</summary>
    public const string ResultFormat = "rlm-result";

    /// <summary>The <c>format</c> of a trajectory's first line.</summary>
    public const string TrajectoryFormat = "rlm-trajectory";

    /// <summary>
    /// The version both formats are written in. 2: the keys shared by the two documents are the same
    /// (<c>statistics.wall_time_ms</c>, <c>statistics.max_depth_reached</c>); 1 was the trajectory before them.
    /// </summary>
    public const int Version = 2;

    // Non-ASCII text stays readable; '<' etc. need no escaping in a file (the viewer escapes what it embeds).
    private static readonly JsonSerializerOptions s_compact = new(RlmJsonContext.Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonSerializerOptions s_indented = new(s_compact) { WriteIndented = true };

    /// <summary>The serializer for trajectory lines: one line per value.</summary>
    public static RlmJsonContext Compact { get; } = new(s_compact);

    /// <summary>The serializer for <c>rlm --json</c>: indented.</summary>
    public static RlmJsonContext Indented { get; } = new(s_indented);

    /// <summary>The <c>rlm --json</c> document of a run: everything, sensitive text included.</summary>
    /// <param name="result">The run's result, or the partial result of a failed run.</param>
    /// <param name="models">The models, as the front end configured them.</param>
    /// <param name="input">The input.</param>
    /// <param name="error">The one-line error that ended a failed run; <see langword="null"/> for a run that ended normally.</param>
    public static RunJson CreateResult(RlmResult result, ModelsJson? models, InputJson? input, string? error = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        int nextId = 0;
        return Common(result, ResultFormat) with
        {
            Error = error,
            Answer = result.Answer,
            Citations = CitationJson.From(result.Citations),
            Models = models,
            Input = input,
            Trajectory = Tree(result.Trajectory, null),
        };

        TraceNodeJson Tree(RlmTraceNode node, int? parentId)
        {
            int id = ++nextId;
            return TraceNodeJson.From(node, id, parentId, sensitive: true) with { Children = [.. node.Children.Select(c => Tree(c, id))] };
        }
    }

    /// <summary>The first line of a run's trajectory.</summary>
    public static RunJson CreateTrajectoryRun(RlmResult result, bool sensitive, string? question) => Common(result, TrajectoryFormat) with
    {
        Type = "run",
        Sensitive = sensitive,
        Question = sensitive ? question : null,
        Answer = sensitive ? result.Answer : null,
        Citations = sensitive ? CitationJson.From(result.Citations, withSource: true) : null,
    };

    /// <summary>The node lines of a run's trajectory, parents before children, depth-first.</summary>
    public static IEnumerable<TraceNodeJson> CreateTrajectoryNodes(RlmResult result, bool sensitive)
    {
        ArgumentNullException.ThrowIfNull(result);
        int nextId = 0;
        var stack = new Stack<(RlmTraceNode Node, int? ParentId)>();
        stack.Push((result.Trajectory, null));
        while (stack.TryPop(out var item))
        {
            int id = ++nextId;
            yield return TraceNodeJson.From(item.Node, id, item.ParentId, sensitive) with { Type = "node" };
            var children = item.Node.Children;
            for (int i = children.Count - 1; i >= 0; i--)
            {
                stack.Push((children[i], id));
            }
        }
    }

    /// <summary>Why <c>cost_usd</c> is null, naming the models without a price and how to give them one.</summary>
    internal static string? CostNote(RlmResult result) => result.CostUsd is not null ? null
        : result.UnpricedModels.Count == 0 ? "no cost: the run has no price for a model it used"
        : $"no cost: no price for model{(result.UnpricedModels.Count == 1 ? "" : "s")} {string.Join(", ", result.UnpricedModels.Select(m => $"'{m}'"))}; " +
          "prices come from RlmPriceTable.Default (rlm uses it as shipped); a library user sets one with RlmOptions.Prices.Set(modelId, price)";

    private static RunJson Common(RlmResult result, string format) => new()
    {
        Format = format,
        Version = Version,
        StopReason = result.StopReason,
        IsFinal = result.IsFinal,
        StopMessage = result.StopMessage,
        CostUsd = result.CostUsd,
        CostNote = CostNote(result),
        Usage = UsageJson.From(result.Usage),
        UsageByModel = UsageJson.ByModel(result.UsageByModel),
        Statistics = StatisticsJson.From(result),
    };
}
