using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rlm.Tools;

/// <summary>
/// The names under which Rlm.Tools reports OpenTelemetry-compatible traces and metrics, following the OpenTelemetry
/// semantic conventions for generative AI (<c>gen_ai.*</c>) where they fit. No prompt, context or answer text is recorded.
/// </summary>
/// <remarks>
/// <para>Spans (<see cref="ActivitySource"/> named <see cref="SourceName"/>): <c>rlm.query</c> for a whole run;
/// <c>rlm.sub_call</c> for each sub-call (a recursive session or a leaf); <c>chat {model}</c> (kind client) for each
/// model request, its duration including the wait for a dispatcher slot; <c>execute_tool {name}</c> for each tool call.
/// A model request runs on a dispatcher worker with its <c>chat</c> span as <see cref="Activity.Current"/>, so spans of
/// the chat client (HTTP, for example) nest below it.</para>
/// <para>Metrics (<see cref="Meter"/> named <see cref="SourceName"/>): <c>gen_ai.client.token.usage</c> (histogram,
/// tokens, tagged <c>gen_ai.token.type</c> = <c>input</c> or <c>output</c>), <c>gen_ai.client.operation.duration</c>
/// (histogram, seconds), <c>rlm.sub_calls</c> and <c>rlm.tool.calls</c> (counters; tool calls tagged
/// <c>gen_ai.tool.name</c>).</para>
/// <para>Collect them with, for example, <c>AddSource(RlmTelemetry.SourceName)</c> and
/// <c>AddMeter(RlmTelemetry.SourceName)</c> in the OpenTelemetry SDK.</para>
/// </remarks>
public static class RlmTelemetry
{
    /// <summary>The name of the <see cref="ActivitySource"/> and the <see cref="Meter"/>: <c>Rlm.Tools</c>.</summary>
    public const string SourceName = "Rlm.Tools";

    private static readonly string? s_version = typeof(RlmTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly ActivitySource ActivitySource = new(SourceName, s_version);

    internal static readonly Meter Meter = new(SourceName, s_version);

    internal static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>(
        "gen_ai.client.token.usage", "{token}", "Tokens used per model request, by gen_ai.token.type (input or output).");

    internal static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>(
        "gen_ai.client.operation.duration", "s", "Duration of model requests, the wait for a dispatcher slot included.");

    internal static readonly Counter<long> SubCalls = Meter.CreateCounter<long>(
        "rlm.sub_calls", "{call}", "Sub-calls started (sub_llm, llm_query, each prompt of llm_query_batched).");

    internal static readonly Counter<long> ToolCalls = Meter.CreateCounter<long>(
        "rlm.tool.calls", "{call}", "Tool calls made by models, by gen_ai.tool.name.");
}
