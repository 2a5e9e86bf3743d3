using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Rlm.Tools.Mcp;

/// <summary>
/// A Model Context Protocol server that answers questions over one corpus with a Recursive Language Model. It offers two
/// tools: <c>query</c> (argument <c>question</c>, optional <c>documents</c> name filter; the answer cites <c>document:line</c>; progress notifications per
/// iteration and sub-call when the client sends a progress token; <c>notifications/cancelled</c> ends the run) and
/// <c>list_documents</c>. Model and endpoint failures come back as tool results with <c>isError</c> set and a one-line message.
/// Clients are not trusted: <see cref="RlmMcpServerOptions.Query"/> bounds the question, each query's time and tokens, and
/// the queries running at once (a query past the limit waits with progress, then gets a "server is busy" error result).
/// </summary>
public static class RlmMcpServer
{
    /// <summary>
    /// Adds the <c>query</c> and <c>list_documents</c> tools over <paramref name="corpus"/> to an MCP server. <c>query</c> is
    /// <paramref name="rlm"/>'s <see cref="RecursiveLanguageModel.AsAIFunction(RlmCorpus, RlmCorpusToolOptions)"/> (parameters <c>question</c> and an optional
    /// <c>documents</c> name filter), one run per call: the run's <see cref="RlmEvent"/>s become progress notifications for
    /// the client that sent a progress token (and still reach <see cref="RlmOptions.Progress"/>, if set). When
    /// <paramref name="rlm"/> has no <see cref="RlmOptions.LoggerFactory"/>, the server builds one copy of it, once, that logs
    /// to the server's.
    /// </summary>
    /// <param name="builder">The MCP server builder (<c>services.AddMcpServer()</c>).</param>
    /// <param name="rlm">The Recursive Language Model whose clients and options answer the queries.</param>
    /// <param name="corpus">The corpus, prepared once (<see cref="RlmCorpus.FromDocuments"/>); documents named (for example by relative path) let answers cite them.</param>
    /// <param name="options">Server settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithRlmCorpusTools(this IMcpServerBuilder builder, RecursiveLanguageModel rlm, RlmCorpus corpus, RlmMcpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(rlm);
        ArgumentNullException.ThrowIfNull(corpus);

        options ??= new RlmMcpServerOptions();
        builder.Services.AddSingleton(sp => new RlmCorpusTools(rlm, corpus, options, sp.GetRequiredService<ILoggerFactory>()));
        var names = new[] { RlmCorpusTools.QueryToolName, RlmCorpusTools.ListDocumentsToolName };
        foreach (string name in names)
        {
            builder.Services.AddSingleton(sp => sp.GetRequiredService<RlmCorpusTools>().Tools.Single(t => t.ProtocolTool.Name == name));
        }

        return builder;
    }

    /// <summary>
    /// Serves the corpus over standard input and output on a generic host until the client closes the connection or
    /// <paramref name="cancellationToken"/> is canceled. Logs go to standard error only.
    /// </summary>
    /// <param name="rlm">The Recursive Language Model whose clients and options answer the queries.</param>
    /// <param name="corpus">The corpus, prepared once.</param>
    /// <param name="options">Server settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the server.</param>
    /// <returns>A task that completes when the server has stopped.</returns>
    public static async Task RunStdioAsync(RecursiveLanguageModel rlm, RlmCorpus corpus, RlmMcpServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RlmMcpServerOptions();

        // No command-line arguments, no appsettings.json from the working directory: the rlm command configures everything.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });

        // Standard output is the protocol: every log line goes to standard error.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("ModelContextProtocol", LogLevel.Warning);

        // One line per query at Information, the server's own: the engine's run start and end lines (also Information)
        // show with Debug and below only. The more specific "Rlm.Tools.Mcp" rule keeps the server's lines.
        builder.Logging.AddFilter(RlmLog.Category, options.MinimumLogLevel <= LogLevel.Debug ? options.MinimumLogLevel : LogLevel.Warning);
        builder.Logging.AddFilter("Rlm.Tools.Mcp", options.MinimumLogLevel);

        ArgumentNullException.ThrowIfNull(rlm);
        ArgumentNullException.ThrowIfNull(corpus);
        builder.Services
            .AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = options.ServerName, Version = Version };
                o.ServerInstructions = "Answers questions over a fixed corpus of documents with a Recursive Language Model. " +
                                       "Call list_documents to see the documents, and query with a self-contained question; answers cite document:line.";
            })
            .WithStdioServerTransport()
            .WithRlmCorpusTools(rlm, corpus, options);

        using var host = builder.Build();
        var tools = host.Services.GetRequiredService<RlmCorpusTools>();
        host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Rlm.Tools.Mcp")
            .LogInformation("serving {Summary} over stdio; model {Model}; {Limits}", tools.Summary, rlm.Options.RootModelId ?? "(default)", options.Query.Describe(options.Query.ApplyDefaults(rlm.Options)));
        await host.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Version =>
        typeof(RlmMcpServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion is { } version
            ? version.Split('+')[0]
            : "1.0.0";
}
