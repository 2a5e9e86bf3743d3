using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rlm.Tools;

/// <summary>
/// The names under which Rlm.Tools reports OpenTelemetry-compatible traces and metrics, following the OpenTelemetry
/// semantic conventions for generative AI (<c>gen_ai.*</c>) where they fit. No prompt, context or answer text is recorded.
/// </summary>
/// <remarks>
/// <para>Spans (<see cref="ActivitySource"/> named <see cref="SourceName"/>): <c>rlm.query</c> for a whole run;
/// <c>rlm.sub_call</c> for each sub-call (a recursive session or a leaf); <c>execute_tool {name}</c> for each tool call.
/// The per-request <c>chat {model}</c> span and the <c>gen_ai.client.*</c> metrics are the chat client's to write: build
/// the root and worker clients with M.E.AI's <c>UseOpenTelemetry()</c> (<c>OpenTelemetryChatClient</c>). A model request
/// runs on a dispatcher worker with the caller's span (<c>execute_tool</c>, <c>rlm.sub_call</c> or <c>rlm.query</c>) as
/// <see cref="Activity.Current"/>, so the client's spans nest below it.</para>
/// <para>Metrics (<see cref="Meter"/> named <see cref="SourceName"/>): <c>rlm.sub_calls</c> and <c>rlm.tool.calls</c>
/// (counters; tool calls tagged <c>gen_ai.tool.name</c>).</para>
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

    internal static readonly Counter<long> SubCalls = Meter.CreateCounter<long>(
        "rlm.sub_calls", "{call}", "Sub-calls started (sub_llm, llm_query, each prompt of llm_query_batched).");

    internal static readonly Counter<long> ToolCalls = Meter.CreateCounter<long>(
        "rlm.tool.calls", "{call}", "Tool calls made by models, by gen_ai.tool.name.");
}
