using Microsoft.Extensions.Logging;

namespace Rlm.Tools.Server;

/// <summary>
/// What <c>rlm serve</c> serves and how: the model, the corpus loaded at start, the addresses, and the limits every client
/// is held to. Filled by the command line (<c>ServeRunner</c>) and read once by <see cref="RlmServerHost"/>.
/// </summary>
internal sealed class RlmServerOptions
{
    /// <summary>The address listened on when none is given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>The largest request body accepted by default: 32 MiB.</summary>
    public const long DefaultMaxRequestBytes = 32L * 1024 * 1024;

    /// <summary>The queries one client may have running at once by default.</summary>
    public const int DefaultMaxConcurrentQueries = 4;

    /// <summary>How long a stop waits for running queries by default.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Gets the model that answers every query (its options hold the run limits and budgets).</summary>
    public required RecursiveLanguageModel Rlm { get; init; }

    /// <summary>Gets the model id a request may name besides <c>rlm</c> (the root model's), or <see langword="null"/>.</summary>
    public string? ModelId { get; init; }

    /// <summary>Gets the corpus loaded at start, served under the id <c>default</c>, or <see langword="null"/>.</summary>
    public RlmCorpus? DefaultCorpus { get; init; }

    /// <summary>Gets where the default corpus came from, for the logs and the MCP tool description.</summary>
    public string? CorpusDescription { get; init; }

    /// <summary>Gets the addresses to listen on (port 0: any free port, reported once bound).</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>Gets the client API keys; empty: no authentication.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>Gets the largest request body in bytes. The default value is 32 MiB.</summary>
    public long MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>Gets the queries one client (API key, or remote address without keys) may have running at once. The default value is 4.</summary>
    public int MaxConcurrentQueries { get; init; } = DefaultMaxConcurrentQueries;

    /// <summary>Gets the longest question of the corpora API and MCP, in characters. The default value is 100,000.</summary>
    public int MaxQuestionChars { get; init; } = 100_000;

    /// <summary>Gets how long a stop (SIGTERM, SIGINT) waits for running queries before it cancels them. The default value is 30 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = DefaultShutdownTimeout;

    /// <summary>Gets what replicas share (Redis, or this process's memory) and its bounds.</summary>
    public State.ServerStateOptions State { get; init; } = new();

    /// <summary>Gets the lowest level logged on stderr.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>Gets a one-line description of a model endpoint failure, or <see langword="null"/> for other exceptions.</summary>
    public Func<Exception, string?>? DescribeError { get; init; }

    /// <summary>Gets what is called with the bound addresses once the server listens (<c>rlm serve</c> prints them).</summary>
    public Action<IReadOnlyList<string>>? Listening { get; init; }
}
