using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rlm.Tools.OpenAI;
using Rlm.Tools.Server;
using Rlm.Tools.Server.State;

namespace Rlm.Tools.Cli;

/// <summary>
/// Runs <c>rlm serve</c>: validates the options, sets up the models as <c>rlm</c> does, loads the optional corpus once,
/// prints the one "listening on" line on stdout and serves until SIGTERM or SIGINT (handled by the host: running queries get
/// <c>--shutdown-timeout</c> to finish), then exits 0. Usage errors are one line on stderr (exit code 2) before anything is served.
/// </summary>
internal sealed class ServeRunner(ServeCommand command, ParseResult parseResult)
{
    private readonly TextWriter _stderr = Console.Error;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        ModelSetup? models = null;
        try
        {
            var (options, budgets) = command.Options.ReadRunOptions(parseResult);
            models = command.Options.ApplyModels(parseResult, options, budgets); // before the input: budget errors first
            var limits = ReadLimits();
            var state = ReadState(); // every usage error before anything is loaded or noted
            options = new RlmCorpusToolOptions().ApplyDefaults(options); // 600 s and 1,000,000 tokens unless bounded
            var urls = ReadUrls();
            var keys = ReadApiKeys();
            foreach (string secret in models.Secrets)
            {
                options.RedactedValues.Add(secret);
            }

            (RlmCorpus Corpus, string Source)? input = null;
            if (parseResult.GetResult(command.Options.Files) is not null || parseResult.GetResult(command.Options.Dir) is not null)
            {
                var loaded = await command.Options.LoadInputAsync(parseResult, cancellationToken, namedDocuments: true).ConfigureAwait(false);
                foreach (var line in SkipReport.Lines(loaded.Corpus, maxPaths: 10))
                {
                    Note(line.StartsWith(' ') ? line.TrimStart() : $"skipped {line}");
                }

                input = (loaded.Corpus, loaded.Source);
            }

            if (models.IsOffline)
            {
                Note($"{models.OfflineReason}: using the offline model ({OfflineChatClient.ModelId}: keyword retrieval, not an LLM).");
            }

            if (keys.Count == 0 && urls.Any(ListensBeyondLoopback))
            {
                Note("listening beyond this machine without --api-key-file: anyone who reaches the port can run queries (and spend the model endpoint's tokens).");
            }

            var setup = models; // the lambda below outlives this method's assignments
            var serverOptions = new RlmServerOptions
            {
                Rlm = new RecursiveLanguageModel(models.RootClient, models.WorkerClient, options),
                ModelId = models.RootModel,
                DefaultCorpus = input?.Corpus,
                CorpusDescription = input?.Source,
                Urls = urls,
                ApiKeys = keys,
                MaxRequestBytes = limits.MaxRequestBytes,
                MaxConcurrentQueries = limits.MaxConcurrentQueries,
                MaxQuestionChars = limits.MaxQuestionChars,
                ShutdownTimeout = limits.ShutdownTimeout,
                State = state,
                MinimumLogLevel = parseResult.GetValue(command.Verbose) ? LogLevel.Debug : LogLevel.Information,
                DescribeError = e => OpenAIErrors.IsEndpointError(e) ? ModelSetup.EndpointFailed(setup, OpenAIErrors.Describe(e)) : null,
                Listening = addresses =>
                {
                    // The one line on stdout: tests and scripts read the bound port from it.
                    Console.Out.WriteLine($"rlm serve: listening on {string.Join(' ', addresses)}");
                    Console.Out.Flush();
                },
            };

            await using var app = RlmServerHost.Build(serverOptions);
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                Note($"cannot listen on {string.Join(' ', urls)}: {e.Message}");
                return ExitCodes.NoFinalAnswer;
            }

            // The host's console lifetime turns SIGTERM and SIGINT into a graceful stop (HostOptions.ShutdownTimeout).
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Answered;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Canceled;
        }
        catch (CliUsageException e)
        {
            Note(Redact(models, e.Message));
            return ExitCodes.UsageError;
        }
        catch (Exception e)
        {
            Note(Redact(models, $"unexpected error: {e.GetType().Name}: {e.Message}"));
            return ExitCodes.NoFinalAnswer;
        }
        finally
        {
            models?.Dispose();
        }
    }

    private (long MaxRequestBytes, int MaxConcurrentQueries, int MaxQuestionChars, TimeSpan ShutdownTimeout) ReadLimits()
    {
        long bytes = parseResult.GetValue(command.MaxRequestBytes);
        int concurrent = parseResult.GetValue(command.MaxConcurrentQueries);
        int questionChars = parseResult.GetValue(command.MaxQuestionChars);
        double shutdown = parseResult.GetValue(command.ShutdownTimeout);
        if (bytes < 1024)
        {
            throw new CliUsageException($"--max-request-bytes must be at least 1024 (got {bytes})");
        }

        if (concurrent < 1)
        {
            throw new CliUsageException($"--max-concurrent-queries must be at least 1 (got {concurrent})");
        }

        if (questionChars < 1)
        {
            throw new CliUsageException($"--max-question-chars must be at least 1 (got {questionChars})");
        }

        if (!(shutdown >= 0 && shutdown <= 3600))
        {
            throw new CliUsageException(FormattableString.Invariant($"--shutdown-timeout must be a number of seconds from 0 to 3600 (got {shutdown})"));
        }

        return (bytes, concurrent, questionChars, TimeSpan.FromSeconds(shutdown));
    }

    private ServerStateOptions ReadState()
    {
        string? redis = parseResult.GetValue(command.Redis);
        if (redis is not null && string.IsNullOrWhiteSpace(redis))
        {
            throw new CliUsageException("--redis needs HOST:PORT, e.g. --redis 127.0.0.1:6379");
        }

        int? providerConcurrency = parseResult.GetResult(command.ProviderConcurrency) is { Implicit: false } ? parseResult.GetValue(command.ProviderConcurrency) : null;
        if (providerConcurrency < 1)
        {
            throw new CliUsageException($"--provider-concurrency must be at least 1 (got {providerConcurrency})");
        }

        long corpusChars = parseResult.GetValue(command.MaxCorpusChars);
        if (corpusChars < 1)
        {
            throw new CliUsageException($"--max-corpus-chars must be at least 1 (got {corpusChars})");
        }

        return new ServerStateOptions { RedisConfiguration = redis?.Trim(), ProviderConcurrency = providerConcurrency, MaxCorpusChars = corpusChars };
    }

    private List<string> ReadUrls()
    {
        var urls = (parseResult.GetValue(command.Urls) ?? RlmServerOptions.DefaultUrl)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (urls.Count == 0)
        {
            throw new CliUsageException("--urls needs an address, e.g. http://127.0.0.1:8080");
        }

        foreach (string url in urls)
        {
            if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliUsageException($"--urls {TerminalText.Inert(url)}: rlm serve speaks plain http://; put TLS in a reverse proxy in front");
            }

            // Kestrel's own forms: a host, an IP, or * / + for every interface.
            string hostPort = url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? url["http://".Length..].TrimEnd('/') : "";
            if (!Uri.TryCreate("http://" + hostPort.Replace('*', 'x').Replace('+', 'x'), UriKind.Absolute, out var parsed) || parsed.AbsolutePath != "/" || hostPort.Length == 0)
            {
                throw new CliUsageException($"--urls {TerminalText.Inert(url)} is not an address to listen on, e.g. http://127.0.0.1:8080 or http://0.0.0.0:8080");
            }
        }

        return urls;
    }

    /// <summary>Whether an address of <c>--urls</c> is reachable from other machines: any host but a loopback name or address.</summary>
    private static bool ListensBeyondLoopback(string url)
    {
        string host = url["http://".Length..].Split('/')[0];
        host = host.StartsWith('[') ? host[1..host.IndexOf(']', StringComparison.Ordinal)] : host.Split(':')[0];
        return !(host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip)));
    }

    private List<string> ReadApiKeys()
    {
        if (parseResult.GetValue(command.ApiKeyFile) is not { } path)
        {
            return [];
        }

        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"--api-key-file {TerminalText.Inert(path)}: cannot read it ({e.GetType().Name.Replace("Exception", "", StringComparison.Ordinal)})");
        }

        var keys = lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Distinct(StringComparer.Ordinal).ToList();
        if (keys.Count == 0)
        {
            throw new CliUsageException($"--api-key-file {TerminalText.Inert(path)} holds no key (one per line; lines starting with # are comments)");
        }

        return keys;
    }

    private void Note(string message) => CliNotes.Write(_stderr, message);

    private static string Redact(ModelSetup? models, string text) => CliNotes.Redact(models, text);
}
