using System.CommandLine;
using Microsoft.Extensions.Logging;
using Rlm.Tools.Mcp;
using Rlm.Tools.OpenAI;

namespace Rlm.Tools.Cli;

/// <summary>
/// Runs <c>rlm mcp</c>: validates the options, loads and prepares the corpus once (<see cref="RlmCorpus"/>), sets up the models as <c>rlm</c> does and serves
/// the corpus over stdio until the client closes the connection. Usage errors are one line on stderr (exit code 2)
/// before anything is served; stdout carries only the protocol.
/// </summary>
internal sealed class McpRunner(McpCommand command, ParseResult parseResult)
{
    private readonly TextWriter _stderr = Console.Error;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        ModelSetup? models = null;
        try
        {
            var (options, budgets) = ReadOptions();
            models = ModelSetup.Create(parseResult.GetValue(command.Offline), parseResult.GetValue(command.BaseUrl), parseResult.GetValue(command.Model), parseResult.GetValue(command.WorkerModel));
            options.RootModelId = models.RootModel;
            options.WorkerModelId = models.WorkerModel;
            budgets.ApplyTo(options); // before the input is loaded: a --max-cost without prices is a usage error
            var (documents, source) = LoadDocuments();
            if (models.IsOffline)
            {
                Note($"{models.OfflineReason}: using the offline model ({OfflineChatClient.ModelId}: keyword retrieval, not an LLM).");
            }

            if (models.ApiKey is { } apiKey)
            {
                options.RedactedValues.Add(apiKey);
            }

            var rlm = new RecursiveLanguageModel(models.RootClient, models.WorkerClient, options);
            string? endpoint = models.Endpoint;
            var serverOptions = new RlmMcpServerOptions
            {
                CorpusDescription = source,
                MinimumLogLevel = parseResult.GetValue(command.Verbose) ? LogLevel.Debug : LogLevel.Information,
                DescribeError = e => OpenAIErrors.IsEndpointError(e)
                    ? $"the model endpoint failed{(endpoint is { } url ? $" ({url})" : "")}: {OpenAIErrors.Describe(e)}"
                    : null,
            };
            await RlmMcpServer.RunStdioAsync(rlm, RlmCorpus.FromDocuments(documents), serverOptions, cancellationToken).ConfigureAwait(false);
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

    private (RlmOptions Options, CliBudgets Budgets) ReadOptions()
    {
        return CliLimits.ReadRunOptions(parseResult, command.MaxIterations, command.MaxDepth, command.MaxConcurrency, command.Timeout,
            command.MaxTokens, command.MaxCost, command.MaxTime);
    }

    /// <summary>Loads <c>--file</c> or <c>--dir</c> as named documents (one file too: answers cite it by its path).</summary>
    private (IReadOnlyList<RlmDocument> Documents, string Source) LoadDocuments()
    {
        var files = parseResult.GetValue(command.Files) ?? [];
        string? dir = parseResult.GetValue(command.Dir);
        var globs = parseResult.GetValue(command.Globs) ?? [];
        bool hasFiles = parseResult.GetResult(command.Files) is not null;
        bool hasDir = parseResult.GetResult(command.Dir) is not null;
        if (!hasFiles && !hasDir)
        {
            throw new CliUsageException("no input: give --file PATH or --dir PATH (see rlm mcp --help)");
        }

        if (hasFiles && hasDir)
        {
            throw new CliUsageException("give exactly one input source, not --file and --dir");
        }

        if (globs.Length > 0 && dir is null)
        {
            throw new CliUsageException("--glob works only with --dir");
        }

        if (hasFiles)
        {
            var input = InputLoader.LoadFiles(files);
            return input.Context is { } text ? ([new RlmDocument(files[0], text)], input.Source) : (input.Documents!, input.Source);
        }

        if (string.IsNullOrWhiteSpace(dir))
        {
            throw new CliUsageException("--dir needs a directory path");
        }

        var loaded = InputLoader.LoadDirectory(dir, globs);
        if (loaded.Skipped.Count > 0)
        {
            Note($"skipped {loaded.Skipped.Count} (binary, unreadable or empty files; unreadable folders): {string.Join(", ", loaded.Skipped.Take(5))}{(loaded.Skipped.Count > 5 ? ", …" : "")}");
        }

        return (loaded.Documents!, loaded.Source);
    }

    private void Note(string message)
    {
        _stderr.WriteLine($"rlm: {message.ReplaceLineEndings(" ").Trim()}");
        _stderr.Flush();
    }

    private static string Redact(ModelSetup? models, string text) =>
        models?.Redact(text) ?? new SecretRedactor(Environment.GetEnvironmentVariable(ModelSetup.ApiKeyVariable) is { } key ? [key] : []).Redact(text);
}
