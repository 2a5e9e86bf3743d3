using System.CommandLine;
using Rlm.Tools.Server;
using Rlm.Tools.Server.State;

namespace Rlm.Tools.Cli;

/// <summary>The <c>rlm serve</c> subcommand: the Recursive Language Model as an HTTP service.</summary>
internal sealed class ServeCommand
{
    /// <summary>The subcommand's description, shown by <c>rlm serve --help</c> and in the list of commands of <c>rlm --help</c>.</summary>
    internal const string Description = """
        Serve the Recursive Language Model over HTTP (ASP.NET Core) to any number of clients. Routes: POST /v1/chat/completions
        (OpenAI-compatible, plain and stream: true; model "rlm" or the configured --model; large messages and text file parts
        become the context, else the corpus given with "rlm": {"corpus": "ID"}, else the default corpus), GET /v1/models;
        POST /v1/corpora (JSON {"documents":[{"name","text"}]} or a text/plain body) and, per corpus, GET .../documents and
        POST .../query ({"question", "conversation_id"?}; ?stream=true sends the run's events); MCP over streamable HTTP at
        /mcp (tools query and list_documents over the default corpus, stateless); GET /healthz and /readyz. The input is
        optional: --file or --dir is loaded once at start as the corpus "default". Model options as for rlm (offline by
        default); the limits, --timeout and the budgets apply to each query, and without --max-time and --max-tokens each
        query is bounded by 600 s and 1,000,000 tokens. Clients are not trusted: with --api-key-file every /v1 and /mcp
        request needs Authorization: Bearer KEY (401 otherwise); a body over --max-request-bytes is refused (413); a client
        (API key, or remote address without keys) runs at most --max-concurrent-queries queries at once (429 with
        Retry-After past it). Errors are JSON in OpenAI's shape {"error":{"message","type","param","code"}}. On start it
        prints one line on stdout, "rlm serve: listening on URL", and logs on stderr (one line per query). SIGTERM or SIGINT
        stops accepting connections, lets running queries finish for up to --shutdown-timeout seconds, cancels the rest and
        exits 0. Plain HTTP only: put TLS in a reverse proxy in front.
        """;

    public ServeCommand(CliOptions options)
    {
        Options = options;
        Urls = new Option<string>("--urls")
        {
            Description = $"The address to listen on (several separated by ';'), http:// only; port 0 takes a free port, the one printed. The default listens on this machine only; http://0.0.0.0:8080 listens on every interface.",
            HelpName = "URL",
            DefaultValueFactory = _ => RlmServerOptions.DefaultUrl,
        };
        ApiKeyFile = new Option<string>("--api-key-file")
        {
            Description = "A file of client API keys, one per line (blank lines and lines starting with # are skipped). With it, every /v1 and /mcp request needs Authorization: Bearer KEY; /healthz and /readyz stay open. Keys are never logged.",
            HelpName = "PATH",
        };
        MaxRequestBytes = new Option<long>("--max-request-bytes")
        {
            Description = "Largest request body in bytes (at least 1,024); a larger one gets 413. The default is 32 MiB.",
            HelpName = "N",
            DefaultValueFactory = _ => RlmServerOptions.DefaultMaxRequestBytes,
        };
        MaxConcurrentQueries = new Option<int>("--max-concurrent-queries")
        {
            Description = "Most queries one client (an API key, or a remote address without keys) has running at once (at least 1); one more gets 429 with Retry-After.",
            HelpName = "N",
            DefaultValueFactory = _ => RlmServerOptions.DefaultMaxConcurrentQueries,
        };
        MaxQuestionChars = new Option<int>("--max-question-chars")
        {
            Description = "Longest question of the corpora API and MCP in characters (at least 1); a longer one gets 400.",
            HelpName = "N",
            DefaultValueFactory = _ => new RlmCorpusToolOptions().MaxQuestionChars,
        };
        MaxCorpusChars = new Option<long>("--max-corpus-chars")
        {
            Description = "Most characters of one uploaded corpus (all its documents' text, at least 1); a larger upload gets 413. The default is 20,000,000.",
            HelpName = "N",
            DefaultValueFactory = _ => new ServerStateOptions().MaxCorpusChars,
        };
        ShutdownTimeout = new Option<double>("--shutdown-timeout")
        {
            Description = "How long a stop (SIGTERM, SIGINT) lets running queries finish, in seconds (0 to 3600), before it cancels them.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => RlmServerOptions.DefaultShutdownTimeout.TotalSeconds,
        };
        Redis = new Option<string>("--redis")
        {
            Description = "Share state with the other replicas through this Redis 7 server (HOST:PORT): conversations, uploaded corpora and memoized sub-call answers, so any replica answers any request. Without it the state lives in this process's memory (one replica). When Redis goes away, queries still complete without sharing, and /readyz says degraded.",
            HelpName = "HOST:PORT",
        };
        ProviderConcurrency = new Option<int>("--provider-concurrency")
        {
            Description = "Most model requests in flight across all replicas sharing --redis (in this process without it), at least 1. Default: no shared limit (--max-concurrency bounds each query).",
            HelpName = "N",
        };
        Verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Debug logs on stderr (the engine's run lines too). Default: one line per query.",
        };

        Command = new Command("serve", Description) { options.Files, options.Dir, options.Globs, options.IGlobs, options.Follow, options.Hidden, options.NoIgnore };
        foreach (var option in options.ModelOptions.Concat(options.LimitOptions))
        {
            Command.Options.Add(option);
        }

        foreach (var option in (Option[])[options.Citations, Urls, Redis, ProviderConcurrency, ApiKeyFile, MaxRequestBytes, MaxConcurrentQueries, MaxQuestionChars, MaxCorpusChars, ShutdownTimeout, Verbose])
        {
            Command.Options.Add(option);
        }
    }

    public Command Command { get; }

    /// <summary>Gets the options shared with <c>rlm</c>.</summary>
    public CliOptions Options { get; }

    /// <summary>Gets <c>--urls URL[;URL...]</c>.</summary>
    public Option<string> Urls { get; }

    /// <summary>Gets <c>--redis HOST:PORT</c>.</summary>
    public Option<string> Redis { get; }

    /// <summary>Gets <c>--provider-concurrency N</c>.</summary>
    public Option<int> ProviderConcurrency { get; }

    /// <summary>Gets <c>--api-key-file PATH</c>.</summary>
    public Option<string> ApiKeyFile { get; }

    /// <summary>Gets <c>--max-request-bytes N</c>.</summary>
    public Option<long> MaxRequestBytes { get; }

    /// <summary>Gets <c>--max-concurrent-queries N</c> (per client).</summary>
    public Option<int> MaxConcurrentQueries { get; }

    /// <summary>Gets <c>--max-question-chars N</c>.</summary>
    public Option<int> MaxQuestionChars { get; }

    /// <summary>Gets <c>--max-corpus-chars N</c> (<see cref="ServerStateOptions.MaxCorpusChars"/>).</summary>
    public Option<long> MaxCorpusChars { get; }

    /// <summary>Gets <c>--shutdown-timeout SECONDS</c>.</summary>
    public Option<double> ShutdownTimeout { get; }

    /// <summary>Gets <c>-v</c>: debug logs.</summary>
    public Option<bool> Verbose { get; }
}
