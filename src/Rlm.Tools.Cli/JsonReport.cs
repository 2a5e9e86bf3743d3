using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Cli;

/// <summary>
/// Writes the <c>--json</c> report: one JSON object with the answer, stop reason, usage, statistics and trajectory.
/// Written with <see cref="Utf8JsonWriter"/> so that names are snake_case and stable without reflection.
/// </summary>
internal static class JsonReport
{
    /// <summary>The snake_case name of a stop reason, as in the JSON report.</summary>
    public static string StopReasonName(RlmStopReason reason) => reason switch
    {
        RlmStopReason.Final => "final",
        RlmStopReason.FinalVariable => "final_var",
        RlmStopReason.TextReply => "text_reply",
        RlmStopReason.IterationLimit => "iteration_limit",
        RlmStopReason.TokenBudget => "token_budget",
        RlmStopReason.CostBudget => "cost_budget",
        RlmStopReason.TimeBudget => "time_budget",
        RlmStopReason.ErrorLimit => "error_limit",
        RlmStopReason.ModelFailure => "model_failure",
        _ => reason.ToString().ToLowerInvariant(),
    };

    /// <summary>Writes the report for <paramref name="result"/> to <paramref name="stream"/>, followed by a line break.</summary>
    public static void Write(Stream stream, RlmResult result, ModelSetup models, CliInput input)
    {
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var json = new Utf8JsonWriter(stream, options))
        {
            json.WriteStartObject();
            json.WriteString("answer", result.Answer);
            json.WriteString("stop_reason", StopReasonName(result.StopReason));
            json.WriteBoolean("is_final", result.IsFinal);
            if (result.CostUsd is { } cost)
            {
                json.WriteNumber("cost_usd", cost);
            }
            else
            {
                json.WriteNull("cost_usd");
            }

            json.WriteStartObject("models");
            json.WriteString("provider", models.Provider);
            json.WriteString("root", models.RootModel);
            json.WriteString("worker", models.WorkerModel);
            json.WriteBoolean("offline", models.IsOffline);
            json.WriteEndObject();

            json.WriteStartObject("input");
            json.WriteString("source", input.Source);
            json.WriteNumber("chars", input.Chars);
            json.WriteNumber("lines", input.Lines);
            json.WriteNumber("documents", input.Documents?.Count ?? 0);
            json.WriteEndObject();

            json.WritePropertyName("usage");
            RlmTrajectoryWriter.WriteUsage(json, result.Usage);
            RlmTrajectoryWriter.WriteUsageByModel(json, result);

            var s = result.Statistics;
            json.WriteStartObject("statistics");
            json.WriteNumber("model_calls", s.ModelCalls);
            json.WriteNumber("model_retries", s.ModelRetries);
            json.WriteNumber("failed_model_calls", s.FailedModelCalls);
            json.WriteNumber("iterations", s.Iterations);
            json.WriteNumber("root_iterations", s.RootIterations);
            json.WriteNumber("tool_calls_total", s.ToolCalls.Values.Sum());
            json.WriteStartObject("tool_calls");
            foreach (var (tool, count) in s.ToolCalls)
            {
                json.WriteNumber(tool, count);
            }

            json.WriteEndObject();
            json.WriteNumber("sub_calls", s.SubCalls);
            json.WriteNumber("failed_sub_calls", s.FailedSubCalls);
            json.WriteNumber("memoized_sub_calls", s.MemoizedSubCalls);
            json.WriteNumber("compactions", s.Compactions);
            json.WriteBoolean("all_sub_calls_failed", result.AllSubCallsFailed);
            json.WriteNumber("max_depth", s.MaxDepthReached);
            json.WriteNumber("peak_concurrency", s.PeakConcurrency);
            json.WriteNumber("wall_time_ms", Math.Round(s.WallTime.TotalMilliseconds, 1));
            json.WriteEndObject();

            json.WritePropertyName("trajectory");
            WriteNode(json, result.Trajectory);
            json.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
        stream.Flush();
    }

    private static void WriteNode(Utf8JsonWriter json, RlmTraceNode node)
    {
        json.WriteStartObject();
        json.WriteString("kind", node.Kind switch
        {
            RlmTraceKind.Session => "session",
            RlmTraceKind.ModelCall => "model_call",
            RlmTraceKind.ToolCall => "tool_call",
            RlmTraceKind.Leaf => "leaf",
            _ => node.Kind.ToString().ToLowerInvariant(),
        });
        json.WriteString("label", node.Label);
        json.WriteNumber("depth", node.Depth);
        json.WriteNumber("started_ms", Math.Round(node.StartedAt.TotalMilliseconds, 1));
        json.WriteNumber("duration_ms", Math.Round(node.Duration.TotalMilliseconds, 1));
        if (node.Summary is null)
        {
            json.WriteNull("summary");
        }
        else
        {
            json.WriteString("summary", node.Summary);
        }

        json.WriteBoolean("is_error", node.IsError);
        json.WriteStartArray("children");
        foreach (var child in node.Children)
        {
            WriteNode(json, child);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
