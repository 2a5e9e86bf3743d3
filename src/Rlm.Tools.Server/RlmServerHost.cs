using System.Reflection;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using Rlm.Tools.Mcp;
using Rlm.Tools.Server.Corpora;
using Rlm.Tools.Server.OpenAI;
using Rlm.Tools.Server.State;

namespace Rlm.Tools.Server;

/// <summary>
/// Builds and runs <c>rlm serve</c>: an ASP.NET Core minimal-API application with the OpenAI-compatible routes, the
/// corpora API, MCP over streamable HTTP at <c>/mcp</c> (stateless: any replica answers any request) and the health
/// endpoints; logs on stderr, OpenTelemetry, API keys, a request-size limit and a per-client concurrency limit.
/// </summary>
/// <remarks>
/// A stop (SIGTERM, SIGINT) stops accepting connections, lets running queries finish for up to
/// <see cref="RlmServerOptions.ShutdownTimeout"/>, then cancels what still runs (Kestrel aborts the connections); the host
/// handles the signals (its console lifetime), so the run returns normally and the command exits 0.
/// </remarks>
internal static class RlmServerHost
{
    /// <summary>The logger category of the server's own lines.</summary>
    public const string LogCategory = "Rlm.Tools.Server";

    /// <summary>Builds the application (not started).</summary>
    public static WebApplication Build(RlmServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // No command-line arguments, no appsettings.json from the working directory: rlm serve's options configure everything.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        ConfigureLogging(builder.Logging, builder.Services, options.MinimumLogLevel);
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ServedModel>();
        builder.Services.AddRlmServerState(options.State);
        builder.Services.AddSingleton<CorporaEndpoints>();
        builder.Services.AddSingleton<RunFailures>();
        builder.Services.AddSingleton<QueryLog>();
        builder.Services.AddSingleton<ChatCompletionsEndpoint>();
        AddClientLimits(builder.Services, options);
        ServerTelemetry.Add(builder.Services);
        if (options.DefaultCorpus is { } corpus)
        {
            var mcpOptions = new RlmMcpServerOptions
            {
                CorpusDescription = options.CorpusDescription,
                DescribeError = options.DescribeError,
                MinimumLogLevel = options.MinimumLogLevel,
                Query = new RlmCorpusToolOptions
                {
                    MaxQuestionChars = options.MaxQuestionChars,

                    // The per-client limit holds at the HTTP door; this one only bounds the whole server's MCP queries.
                    QueryLimiter = new RlmQueryLimiter(Math.Max(RlmQueryLimiter.Shared.MaxConcurrentQueries, options.MaxConcurrentQueries * 16), RlmQueryLimiter.Shared.QueueTimeout),
                },
            };
            builder.Services
                .AddMcpServer(o => o.ServerInfo = new Implementation { Name = "rlm", Version = Version })
                .WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.Stateless)
                .WithRlmCorpusTools(options.Rlm, corpus, mcpOptions);

            // The tools answer with the server's own model (its logs, and the replicas' shared state), built by the container:
            // this registration comes last, so it is the one the tools resolve.
            builder.Services.AddSingleton(sp => new RlmCorpusTools(sp.GetRequiredService<ServedModel>().Rlm, corpus, mcpOptions, sp.GetRequiredService<ILoggerFactory>()));
        }

        var app = builder.Build();
        if (options.DefaultCorpus is { } loaded)
        {
            app.Services.GetRequiredService<ICorpusStore>().SetDefault(loaded);
        }

        app.UseMiddleware<RequestGate>();
        app.UseRateLimiter();
        MapRoutes(app, options);

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(LogCategory).LogInformation("rlm serve: model {Model}; {Corpus}; stops within {Seconds:0.###} s of SIGTERM", options.ModelId ?? "rlm", options.DefaultCorpus is null ? "no default corpus" : $"default corpus: {options.CorpusDescription}", options.ShutdownTimeout.TotalSeconds);
            options.Listening?.Invoke(addresses);
        });
        return app;
    }

    private static void MapRoutes(WebApplication app, RlmServerOptions options)
    {
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        app.MapGet("/healthz", () => TypedResults.Json(new HealthStatus("ok"), ServerJson.Wire.HealthStatus));
        app.MapGet("/readyz", (ServerSharedState state) =>
        {
            // 503 only once a stop has begun; without Redis the replica still serves (degraded), so a balancer keeps it.
            string redis = state.RedisStatus;
            return lifetime.ApplicationStopping.IsCancellationRequested
                ? TypedResults.Json(new HealthStatus("stopping", redis), ServerJson.Wire.HealthStatus, statusCode: StatusCodes.Status503ServiceUnavailable)
                : TypedResults.Json(new HealthStatus(state.IsDegraded ? "degraded" : "ready", redis), ServerJson.Wire.HealthStatus);
        });

        app.MapGet("/v1/models", (ServedModel model) =>
        {
            long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var ids = model.ModelId is { } id && id != ServedModel.ServiceModel ? new[] { ServedModel.ServiceModel, id } : [ServedModel.ServiceModel];
            return TypedResults.Json(new ModelList("list", [.. ids.Select(i => new ModelEntry(i, "model", created, "rlm"))]), ServerJson.Wire.ModelList);
        });
        app.MapPost(ChatCompletionsEndpoint.Route, (HttpContext context, ChatCompletionsEndpoint endpoint) => endpoint.HandleAsync(context));
        CorporaEndpoints.Map(app);
        if (options.DefaultCorpus is not null)
        {
            app.MapMcp("/mcp");
        }

        // Unknown routes answer in the same JSON shape as every error.
        app.MapFallback((HttpContext context) => ApiErrors.NotFoundAsync(context, $"no route {context.Request.Method} {context.Request.Path}"));
    }

    /// <summary>The per-client limit: at most N query requests running per API key (or remote address without keys); one more is a 429.</summary>
    private static void AddClientLimits(IServiceCollection services, RlmServerOptions options)
    {
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => IsQuery(context.Request)
                ? RateLimitPartition.GetConcurrencyLimiter(RequestGate.ClientOf(context), _ => new ConcurrencyLimiterOptions { PermitLimit = options.MaxConcurrentQueries, QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter(string.Empty));
            o.OnRejected = (rejected, cancellationToken) =>
            {
                rejected.HttpContext.Response.Headers.RetryAfter = "1";
                return new ValueTask(ApiErrors.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests,
                    $"too many queries at once: this client may have {options.MaxConcurrentQueries} running; retry when one has finished", "rate_limit_exceeded", "too_many_concurrent_queries"));
            };
        });
    }

    /// <summary>The requests that run queries: chat completions, corpus queries and MCP messages.</summary>
    private static bool IsQuery(HttpRequest request) =>
        HttpMethods.IsPost(request.Method)
        && (request.Path.Equals(ChatCompletionsEndpoint.Route, StringComparison.OrdinalIgnoreCase)
            || request.Path.StartsWithSegments("/mcp", StringComparison.OrdinalIgnoreCase)
            || (request.Path.StartsWithSegments("/v1/corpora", StringComparison.OrdinalIgnoreCase) && request.Path.Value!.EndsWith("/query", StringComparison.OrdinalIgnoreCase)));

    private static void ConfigureLogging(ILoggingBuilder logging, IServiceCollection services, LogLevel minimum)
    {
        // Standard output carries the one "listening on" line: every log line goes to standard error.
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
            o.TimestampFormat = "HH:mm:ss ";
        });
        services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(minimum);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("ModelContextProtocol", LogLevel.Warning);

        // A failed start (an address in use) is one line of rlm's own, not the host's stack trace.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);

        // One line per query at Information, the server's own; the engine's run lines show with -v only.
        logging.AddFilter("Rlm.Tools", // the engine's category (RlmLog.Category)
             minimum <= LogLevel.Debug ? minimum : LogLevel.Warning);
        logging.AddFilter(LogCategory, minimum);
        logging.AddFilter("Rlm.Tools.Mcp", minimum);
    }

    private static string Version =>
        typeof(RlmServerHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion is { } version
            ? version.Split('+')[0]
            : "1.0.0";
}
