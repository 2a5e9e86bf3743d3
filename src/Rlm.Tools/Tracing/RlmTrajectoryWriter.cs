using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.AI;

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
/// <c>{"type":"run","format":"rlm-trajectory","version":1,"stop_reason":"final","is_final":true,"sensitive":false,
/// "question":…,"answer":…,"usage":{…},"usage_by_model":{"model":{…}},"statistics":{…}}</c>; <c>question</c> and
/// <c>answer</c> are present only with <see cref="RlmTrajectoryOptions.IncludeSensitiveData"/>. A usage object is
/// <c>{"input_tokens":n,"output_tokens":n,"total_tokens":n}</c>.</para>
/// <para>Each further line is one node of <see cref="RlmResult.Trajectory"/>, parents before children, in depth-first order:
/// <c>{"type":"node","id":2,"parent_id":1,"kind":"model_call","label":"model call #1 (root)","depth":0,"started_ms":0.4,
/// "duration_ms":12.5,"is_error":false,"summary":…}</c>. <c>id</c> counts from 1; the root session has <c>parent_id</c>
/// <see langword="null"/>. <c>kind</c> is <c>session</c>, <c>model_call</c>, <c>tool_call</c> or <c>leaf</c>. Times are
/// milliseconds from the start of the run. <c>summary</c> (a result excerpt) is present only with sensitive data; without
/// it a tool call's label keeps the tool name and drops the argument values (<c>grep(…)</c>). <c>model</c>,
/// <c>usage</c> and <c>cost_usd</c> are written on model-call and leaf nodes when known (readers must accept their absence).</para>
/// <para>Readers must ignore unknown properties and lines of unknown <c>type</c>. <see cref="RlmTrajectoryReader"/> reads the format back.</para>
/// </remarks>
public static class RlmTrajectoryWriter
{
    /// <summary>The value of the <c>format</c> property of the run line.</summary>
    public const string Format = "rlm-trajectory";

    /// <summary>The version of the format written.</summary>
    public const int Version = 1;

    /// <summary>Writes <paramref name="result"/>'s trajectory to <paramref name="output"/> as JSON Lines (UTF-8, no byte order mark).</summary>
    /// <param name="result">The run.</param>
    /// <param name="output">The stream written to; left open.</param>
    /// <param name="options">What to include; by default no sensitive text.</param>
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
    public static void WriteJsonLines(RlmResult result, TextWriter output, RlmTrajectoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        bool sensitive = options?.IncludeSensitiveData ?? false;

        output.Write(Line(json =>
        {
            json.WriteString("type", "run");
            json.WriteString("format", Format);
            json.WriteNumber("version", Version);
            json.WriteString("stop_reason", StopReasonName(result.StopReason));
            json.WriteBoolean("is_final", result.IsFinal);
            json.WriteBoolean("sensitive", sensitive);
            if (sensitive)
            {
                if (options?.Question is { } question)
                {
                    json.WriteString("question", question);
                }

                json.WriteString("answer", result.Answer);
            }

            json.WritePropertyName("usage");
            WriteUsage(json, result.Usage);
            if (result.CostUsd is { } runCost)
            {
                json.WriteNumber("cost_usd", runCost);
            }

            WriteUsageByModel(json, result);
            var s = result.Statistics;
            json.WriteStartObject("statistics");
            json.WriteNumber("iterations", s.Iterations);
            json.WriteNumber("root_iterations", s.RootIterations);
            json.WriteNumber("model_calls", s.ModelCalls);
            json.WriteNumber("model_retries", s.ModelRetries);
            json.WriteNumber("failed_model_calls", s.FailedModelCalls);
            json.WriteNumber("sub_calls", s.SubCalls);
            json.WriteNumber("failed_sub_calls", s.FailedSubCalls);
            json.WriteNumber("memoized_sub_calls", s.MemoizedSubCalls);
            json.WriteNumber("compactions", s.Compactions);
            json.WriteNumber("max_depth_reached", s.MaxDepthReached);
            json.WriteNumber("peak_concurrency", s.PeakConcurrency);
            json.WriteNumber("wall_ms", Math.Round(s.WallTime.TotalMilliseconds, 1));
            json.WriteStartObject("tool_calls");
            foreach (var (tool, count) in s.ToolCalls)
            {
                json.WriteNumber(tool, count);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }));

        int nextId = 0;
        WriteNode(result.Trajectory, null);
        output.Flush();

        void WriteNode(RlmTraceNode node, int? parentId)
        {
            int id = ++nextId;
            output.Write(Line(json =>
            {
                json.WriteString("type", "node");
                json.WriteNumber("id", id);
                if (parentId is { } p)
                {
                    json.WriteNumber("parent_id", p);
                }
                else
                {
                    json.WriteNull("parent_id");
                }

                json.WriteString("kind", KindName(node.Kind));
                json.WriteString("label", sensitive ? node.Label : RedactLabel(node));
                json.WriteNumber("depth", node.Depth);
                json.WriteNumber("started_ms", Math.Round(node.StartedAt.TotalMilliseconds, 1));
                json.WriteNumber("duration_ms", Math.Round(node.Duration.TotalMilliseconds, 1));
                json.WriteBoolean("is_error", node.IsError);
                if (node.ModelId is { } model)
                {
                    json.WriteString("model", model);
                }

                if (node.Usage is { } usage)
                {
                    json.WritePropertyName("usage");
                    WriteUsage(json, usage);
                }

                if (node.CostUsd is { } cost)
                {
                    json.WriteNumber("cost_usd", cost);
                }

                if (sensitive && node.Summary is { } summary)
                {
                    json.WriteString("summary", summary);
                }
            }));

            foreach (var child in node.Children)
            {
                WriteNode(child, id);
            }
        }
    }

    /// <summary>The snake_case name of a node kind, as written.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns><c>session</c>, <c>model_call</c>, <c>tool_call</c> or <c>leaf</c>.</returns>
    public static string KindName(RlmTraceKind kind) => kind switch
    {
        RlmTraceKind.Session => "session",
        RlmTraceKind.ModelCall => "model_call",
        RlmTraceKind.ToolCall => "tool_call",
        RlmTraceKind.Leaf => "leaf",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static string StopReasonName(RlmStopReason reason) => reason switch
    {
        RlmStopReason.Final => "final",
        RlmStopReason.FinalVariable => "final_var",
        RlmStopReason.TextReply => "text_reply",
        RlmStopReason.IterationLimit => "iteration_limit",
        _ => JsonNamingPolicy.SnakeCaseLower.ConvertName(reason.ToString()), // token_budget, model_failure, …
    };

    // A tool call's label is name(arguments): the arguments are model text that may quote the context.
    private static string RedactLabel(RlmTraceNode node)
    {
        if (node.Kind != RlmTraceKind.ToolCall)
        {
            return node.Label;
        }

        int paren = node.Label.IndexOf('(', StringComparison.Ordinal);
        return paren < 0 ? node.Label : string.Concat(node.Label.AsSpan(0, paren), "(…)");
    }

    /// <summary>
    /// Writes <c>"usage_by_model":{"model":{usage},…}</c> (models in ordinal order), as the run line and <c>rlm --json</c> do.
    /// </summary>
    /// <param name="json">The writer, inside an object.</param>
    /// <param name="result">The run.</param>
    public static void WriteUsageByModel(Utf8JsonWriter json, RlmResult result)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(result);
        json.WriteStartObject("usage_by_model");
        foreach (var (model, usage) in result.UsageByModel.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            json.WritePropertyName(model);
            WriteUsage(json, usage);
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// Writes a usage object: <c>{"input_tokens":…,"cached_input_tokens":…,"output_tokens":…,"total_tokens":…}</c> (missing
    /// counts as 0). <c>cached_input_tokens</c> (<see cref="UsageDetails.CachedInputTokenCount"/>) is the part of
    /// <c>input_tokens</c> the provider served from its prompt cache, billed at the cached-input price.
    /// </summary>
    /// <param name="json">The writer, where a value may go.</param>
    /// <param name="usage">The usage.</param>
    public static void WriteUsage(Utf8JsonWriter json, UsageDetails usage)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(usage);
        long input = usage.InputTokenCount ?? 0;
        long output = usage.OutputTokenCount ?? 0;
        json.WriteStartObject();
        json.WriteNumber("input_tokens", input);
        json.WriteNumber("cached_input_tokens", usage.CachedInputTokenCount ?? 0);
        json.WriteNumber("output_tokens", output);
        json.WriteNumber("total_tokens", usage.TotalTokenCount ?? input + output);
        json.WriteEndObject();
    }

    private static string Line(Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return string.Create(CultureInfo.InvariantCulture, $"{System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan)}\n");
    }
}
