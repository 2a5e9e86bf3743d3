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
        RlmCorpusToolOptions? queryLimits = null;
        try
        {
            var (options, budgets) = command.Options.ReadRunOptions(parseResult);
            models = command.Options.ApplyModels(parseResult, options, budgets); // before the input: budget errors first
            queryLimits = command.Options.ReadServerLimits(parseResult);
            var (corpus, source) = await LoadCorpusAsync(cancellationToken).ConfigureAwait(false);
            if (models.IsOffline)
            {
                Note($"{models.OfflineReason}: using the offline model ({OfflineChatClient.ModelId}: keyword retrieval, not an LLM).");
            }

            foreach (string secret in models.Secrets)
            {
                options.RedactedValues.Add(secret);
            }

            var rlm = new RecursiveLanguageModel(models.RootClient, models.WorkerClient, options);
            var setup = models; // the lambda below outlives this method's assignments
            var serverOptions = new RlmMcpServerOptions
            {
                CorpusDescription = source,
                Query = queryLimits,
                MinimumLogLevel = parseResult.GetValue(command.Verbose) ? LogLevel.Debug : LogLevel.Information,
                DescribeError = e => OpenAIErrors.IsEndpointError(e) ? ModelSetup.EndpointFailed(setup, OpenAIErrors.Describe(e)) : null,
            };
            await RlmMcpServer.RunStdioAsync(rlm, corpus, serverOptions, cancellationToken).ConfigureAwait(false);
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
            queryLimits?.QueryLimiter.Dispose(); // this server's own limiter, made by ReadServerLimits
        }
    }

    /// <summary>Loads <c>--file</c> or <c>--dir</c> as <c>rlm</c> does, as named documents (one file too: answers cite it by its path).</summary>
    private async Task<(RlmCorpus Corpus, string Source)> LoadCorpusAsync(CancellationToken cancellationToken)
    {
        if (parseResult.GetResult(command.Options.Files) is null && parseResult.GetResult(command.Options.Dir) is null)
        {
            throw new CliUsageException("no input: give --file PATH or --dir PATH (see rlm mcp --help)");
        }

        var input = await command.Options.LoadInputAsync(parseResult, cancellationToken, namedDocuments: true).ConfigureAwait(false);
        foreach (var line in SkipReport.Lines(input.Corpus, maxPaths: 10))
        {
            Note(line.StartsWith(' ') ? line.TrimStart() : $"skipped {line}");
        }

        return (input.Corpus, input.Source);
    }

    private void Note(string message) => CliNotes.Write(_stderr, message);

    private static string Redact(ModelSetup? models, string text) => CliNotes.Redact(models, text);
}
