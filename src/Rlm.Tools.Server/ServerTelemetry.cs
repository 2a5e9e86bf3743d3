using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Rlm.Tools.Server;

/// <summary>
/// OpenTelemetry for <c>rlm serve</c>: ASP.NET Core's request spans and metrics, the engine's (<see cref="RlmTelemetry.SourceName"/>:
/// <c>rlm.query</c>, <c>rlm.sub_call</c>, tool calls) and M.E.AI's per-request <c>chat</c> spans and token metrics, exported by
/// OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the standard <c>OTEL_*</c> variables configure the exporter).
/// </summary>
internal static class ServerTelemetry
{
    /// <summary>The source and meter of M.E.AI's <c>UseOpenTelemetry()</c> chat client.</summary>
    private const string ChatClientSource = "Experimental.Microsoft.Extensions.AI";

    public static void Add(IServiceCollection services)
    {
        var telemetry = services.AddOpenTelemetry()
            .WithTracing(t => t.AddAspNetCoreInstrumentation().AddSource(RlmTelemetry.SourceName, ChatClientSource))
            .WithMetrics(m => m.AddAspNetCoreInstrumentation().AddMeter(RlmTelemetry.SourceName, ChatClientSource));
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            telemetry.UseOtlpExporter();
        }
    }
}
