using System.Text.Json;
using Rlm.Tools.Json;

namespace Rlm.Tools;

/// <summary>Options of <see cref="RlmTrajectoryWriter"/>.</summary>
public sealed class RlmTrajectoryOptions
{
    /// <summary>
    /// Gets or sets whether text that may come from the prompt or the context is written: the question, the answer, node
    /// summaries (excerpts of tool results and answers) and tool-call argument values. Default <see langword="false"/>, as
    /// Microsoft.Extensions.AI's <c>EnableSensitiveData</c>: without it only tool names, kinds, timings, counts and usage are written.
    /// </summary>
    public bool IncludeSensitiveData { get; set; }

    /// <summary>Gets or sets the question of the run, written on the <c>run</c> line only with <see cref="IncludeSensitiveData"/>.</summary>
    public string? Question { get; set; }
}

/// <summary>
/// Writes a run's trajectory as JSON Lines (UTF-8, one JSON object per line, <c>\n</c> after each).
/// </summary>
/// <remarks>
/// <para>The first line describes the run:
/// <c>{"type":"run","format":"rlm-trajectory","version":2,"stop_reason":"final","is_final":true,"sensitive":false,
/// "question":…,"answer":…,"cost_usd":…,"usage":{…},"usage_by_model":{"model":{…}},"statistics":{…}}</c>; <c>question</c>
/// and <c>answer</c> are present only with <see cref="RlmTrajectoryOptions.IncludeSensitiveData"/>, <c>cost_usd</c> is
/// <see langword="null"/> when a model used has no price. With sensitive data the run line also has <c>citations</c>, as in
/// <c>rlm --json</c>, each with <c>source</c>: the cited context text (<c>{"document":…,"line":12,"text":…}</c>) when the
/// cited line exists, so a viewer can show it without the input. A usage object is
/// <c>{"input_tokens":n,"cached_input_tokens":n,"output_tokens":n,"total_tokens":n}</c>. <c>statistics</c> has the same
/// keys as in <c>rlm --json</c> (<c>wall_time_ms</c>, <c>max_depth_reached</c>, <c>tool_calls</c>, …).</para>
/// <para>Each further line is one node of <see cref="RlmResult.Trajectory"/>, parents before children, in depth-first order:
/// <c>{"type":"node","id":2,"parent_id":1,"kind":"model_call","label":"model call #1 (root)","depth":0,"started_ms":0.4,
/// "duration_ms":12.5,"is_error":false,"summary":…}</c>. <c>id</c> counts from 1; the root session has <c>parent_id</c>
/// <see langword="null"/>. <c>kind</c> is <c>session</c>, <c>model_call</c>, <c>tool_call</c> or <c>leaf</c>. Times are
/// milliseconds from the start of the run. <c>summary</c> (a result excerpt) is present only with sensitive data; without
/// it a tool call's label keeps the tool name and drops the argument values (<c>grep(…)</c>). <c>model</c>,
/// <c>usage</c> and <c>cost_usd</c> are written on model-call and leaf nodes when known (readers must accept their absence).</para>
/// <para>Readers must ignore unknown properties and lines of unknown <c>type</c>. <see cref="RlmTrajectoryReader"/> reads the
/// format back, and version 1 files too. The JSON Schema is docs/schema/rlm-trajectory.schema.json in the repository.</para>
/// </remarks>
public static class RlmTrajectoryWriter
{
    /// <summary>The value of the <c>format</c> property of the run line: <c>rlm-trajectory</c>.</summary>
    public const string Format = RlmJson.TrajectoryFormat;

    /// <summary>The version of the format written: 2.</summary>
    public const int Version = RlmJson.Version;

    /// <summary>Writes <paramref name="result"/>'s trajectory to <paramref name="output"/> as JSON Lines (UTF-8, no byte order mark).</summary>
    /// <param name="result">The run.</param>
    /// <param name="output">The stream written to; left open.</param>
    /// <param name="options">What to include; by default no sensitive text.</param>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> or <paramref name="output"/> is <see langword="null"/>.</exception>
    public static void WriteJsonLines(RlmResult result, Stream output, RlmTrajectoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), 16 * 1024, leaveOpen: true) { NewLine = "\n" };
        WriteJsonLines(result, writer, options);
    }

    /// <summary>Writes <paramref name="result"/>'s trajectory to <paramref name="output"/> as JSON Lines.</summary>
    /// <param name="result">The run.</param>
    /// <param name="output">The writer written to; flushed, left open.</param>
    /// <param name="options">What to include; by default no sensitive text.</param>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> or <paramref name="output"/> is <see langword="null"/>.</exception>
    public static void WriteJsonLines(RlmResult result, TextWriter output, RlmTrajectoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        bool sensitive = options?.IncludeSensitiveData ?? false;

        output.Write(JsonSerializer.Serialize(RlmJson.CreateTrajectoryRun(result, sensitive, options?.Question), RlmJson.Compact.RunJson));
        output.Write('\n');
        foreach (var node in RlmJson.CreateTrajectoryNodes(result, sensitive))
        {
            output.Write(JsonSerializer.Serialize(node, RlmJson.Compact.TraceNodeJson));
            output.Write('\n');
        }

        output.Flush();
    }

    /// <summary>The snake_case name of a node kind, as written.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns><c>session</c>, <c>model_call</c>, <c>tool_call</c> or <c>leaf</c>.</returns>
    public static string KindName(RlmTraceKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());
}
