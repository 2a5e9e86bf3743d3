using System.CommandLine;
using System.Globalization;
using Rlm.Tools.OpenAI;
using Spectre.Console;

namespace Rlm.Tools.Cli;

/// <summary>
/// Runs one <c>rlm</c> invocation: validates the options, loads the input, runs the Recursive Language Model and writes
/// the answer (stdout) and the notes, progress, trace and statistics (stderr). Returns the exit code; user mistakes and
/// endpoint failures are one line on stderr, never a stack trace.
/// </summary>
internal sealed class CliRunner(RlmCommand command, ParseResult parseResult)
{
    private readonly TextWriter _stderr = Console.Error;
    private int _canceledNoted;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        // System.CommandLine installs its Ctrl+C handler only once this method returns its task; without the yield, a
        // synchronous stretch (reading a pipe on stdin) would run before it and Ctrl+C would kill the process outright.
        await Task.Yield();
        ModelSetup? models = null;
        bool verbose = parseResult.GetValue(command.Verbose);

        // Say so at once on Ctrl+C: System.CommandLine ends the process with 130 if the run does not stop within 2 seconds.
        // (The catch below says it too: cancellation may unwind this method inline, before this callback's turn.)
        using var canceled = cancellationToken.Register(NoteCanceled);
        try
        {
            var settings = ReadSettings();
            models = ModelSetup.Create(parseResult.GetValue(command.Offline), parseResult.GetValue(command.BaseUrl), parseResult.GetValue(command.Model), parseResult.GetValue(command.WorkerModel));
            var input = await LoadInputAsync(cancellationToken).ConfigureAwait(false);
            if (models.IsOffline)
            {
                Note($"{models.OfflineReason}: using the offline model ({OfflineChatClient.ModelId}: keyword retrieval, not an LLM).");
            }

            var printer = new ProgressPrinter(_stderr);
            var options = new RlmOptions
            {
                MaxIterations = settings.MaxIterations,
                MaxDepth = settings.MaxDepth,
                MaxConcurrency = settings.MaxConcurrency,
                RootModelId = models.RootModel,
                WorkerModelId = models.WorkerModel,
                Progress = verbose ? printer : null,
            };
            if (models.ApiKey is { } apiKey)
            {
                options.RedactedValues.Add(apiKey); // never in a prompt, the trace, progress or an error message
            }

            if (verbose)
            {
                WriteHeader(printer, input, models, settings);
            }

            var rlm = new RecursiveLanguageModel(models.RootClient, models.WorkerClient, options);
            var result = input.Context is not null
                ? await rlm.QueryAsync(settings.Question, input.Context, cancellationToken).ConfigureAwait(false)
                : await rlm.QueryAsync(settings.Question, input.Documents!, cancellationToken).ConfigureAwait(false);
            printer.Enabled = false;
            WriteTrajectory(result, settings.Question);

            if (verbose)
            {
                var console = TraceRenderer.CreateStderrConsole();
                console.WriteLine();
                TraceRenderer.WriteTrace(console, result.Trajectory);
                console.WriteLine();
                TraceRenderer.WriteStatistics(console, result);
                await _stderr.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            if (parseResult.GetValue(command.Json))
            {
                using var stdout = Console.OpenStandardOutput();
                JsonReport.Write(stdout, result, models, input);
            }
            else
            {
                await Console.Out.WriteLineAsync(result.Answer.AsMemory(), cancellationToken).ConfigureAwait(false);
                await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            if (!result.IsFinal)
            {
                Note(result.StopReason switch
                {
                    RlmStopReason.IterationLimit => $"no final answer: the model used all {settings.MaxIterations} iterations; the answer above is its last reply.",
                    RlmStopReason.TokenBudget or RlmStopReason.CostBudget or RlmStopReason.TimeBudget =>
                        $"no final answer: the run reached its {JsonReport.StopReasonName(result.StopReason).Replace('_', ' ')}; the answer above is the best it had.",
                    RlmStopReason.ErrorLimit => "no final answer: too many iterations in a row ended in tool errors; the answer above is the model's last reply.",
                    _ => "no final answer: the model replied in plain text instead of calling final; the answer above is that text.",
                });
                return ExitCodes.NoFinalAnswer;
            }

            if (result.AllSubCallsFailed)
            {
                Note(Invariant($"every sub-call failed ({result.Statistics.FailedSubCalls} of {result.Statistics.SubCalls}): the answer above rests on no worker result (-v shows the errors)."));
                return ExitCodes.NoFinalAnswer;
            }

            return ExitCodes.Answered;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Canceled (Ctrl+C): whatever broke off, including a read of stdin cut short, is not the user's mistake.
            NoteCanceled();
            return ExitCodes.Canceled;
        }
        catch (CliUsageException e)
        {
            Note(Redact(models, e.Message));
            return ExitCodes.UsageError;
        }
        catch (RlmModelException e)
        {
            // Already one line, redacted, with the attempts made and the classified cause.
            Note(Redact(models, $"the model endpoint failed{(models?.Endpoint is { } url ? $" ({url})" : "")}: {e.Message}"));
            return ExitCodes.NoFinalAnswer;
        }
        catch (Exception e) when (OpenAIErrors.IsEndpointError(e))
        {
            Note(Redact(models, $"the model endpoint failed{(models?.Endpoint is { } url ? $" ({url})" : "")}: {OpenAIErrors.Describe(e)}"));
            return ExitCodes.NoFinalAnswer;
        }
        catch (Exception e)
        {
            // A bug, not a user mistake: one line, and the stack trace only when asked for with -v.
            Note(Redact(models, $"unexpected error: {e.GetType().Name}: {OneLine(e.Message)}"));
            if (verbose)
            {
                await _stderr.WriteLineAsync(Redact(models, e.ToString())).ConfigureAwait(false);
            }

            return ExitCodes.NoFinalAnswer;
        }
        finally
        {
            models?.Dispose();
        }
    }

    private Settings ReadSettings()
    {
        string question = parseResult.GetValue(command.Question)?.Trim() ?? string.Empty;
        if (question.Length == 0)
        {
            throw new CliUsageException("the question is empty (see rlm --help)");
        }

        if (question.StartsWith("--", StringComparison.Ordinal) && !question.Contains(' ', StringComparison.Ordinal))
        {
            // An unknown option before the question is taken for the question.
            throw new CliUsageException($"unrecognized option {question} (see rlm --help)");
        }

        int maxIterations = parseResult.GetValue(command.MaxIterations);
        int maxDepth = parseResult.GetValue(command.MaxDepth);
        int maxConcurrency = parseResult.GetValue(command.MaxConcurrency);
        CliLimits.Validate(maxIterations, maxDepth, maxConcurrency);

        if (parseResult.GetValue(command.TrajectorySensitive) && parseResult.GetValue(command.Trajectory) is null)
        {
            throw new CliUsageException("--trajectory-sensitive needs --trajectory PATH");
        }

        return new Settings(question, maxIterations, maxDepth, maxConcurrency);
    }

    private void WriteTrajectory(RlmResult result, string question)
    {
        if (parseResult.GetValue(command.Trajectory) is not { } path)
        {
            return;
        }

        try
        {
            using var file = File.Create(path);
            RlmTrajectoryWriter.WriteJsonLines(result, file, new RlmTrajectoryOptions
            {
                IncludeSensitiveData = parseResult.GetValue(command.TrajectorySensitive),
                Question = question,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"cannot write the trajectory to {path}: {OneLine(e.Message)}");
        }
    }

    /// <summary>Loads --file, --dir or --stdin; also used by <c>rlm chat</c>, whose input options are the same instances.</summary>
    internal async Task<CliInput> LoadInputAsync(CancellationToken cancellationToken)
    {
        var files = parseResult.GetValue(command.Files) ?? [];
        string? dir = parseResult.GetValue(command.Dir);
        var globs = parseResult.GetValue(command.Globs) ?? [];
        bool stdin = parseResult.GetValue(command.Stdin);

        var given = new List<string>();
        if (parseResult.GetResult(command.Files) is not null)
        {
            given.Add("--file");
        }

        if (parseResult.GetResult(command.Dir) is not null)
        {
            given.Add("--dir");
        }

        if (stdin)
        {
            given.Add("--stdin");
        }

        if (given.Count == 0)
        {
            throw new CliUsageException("no input: give --file PATH, --dir PATH or --stdin (see rlm --help)");
        }

        if (given.Count > 1)
        {
            throw new CliUsageException($"give exactly one input source, not {string.Join(" and ", given)}");
        }

        if (globs.Length > 0 && dir is null)
        {
            throw new CliUsageException("--glob works only with --dir");
        }

        if (files.Length > 0)
        {
            return InputLoader.LoadFiles(files);
        }

        if (dir is not null)
        {
            if (string.IsNullOrWhiteSpace(dir))
            {
                throw new CliUsageException("--dir needs a directory path");
            }

            return InputLoader.LoadDirectory(dir, globs);
        }

        return await InputLoader.LoadStdinAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void WriteHeader(ProgressPrinter printer, CliInput input, ModelSetup models, Settings settings)
    {
        string documents = input.Documents is { } docs ? ", " + Count(docs.Count, "document") : string.Empty;
        printer.WriteLine(Invariant($"Input: {input.Source}"));
        if (input.Skipped.Count > 0)
        {
            const int Shown = 5;
            string more = input.Skipped.Count > Shown ? Invariant($", … {input.Skipped.Count - Shown} more") : string.Empty;
            printer.WriteLine(Invariant($"Skipped: {input.Skipped.Count} files ({string.Join(", ", input.Skipped.Take(Shown))}{more})"));
        }

        printer.WriteLine($"Context: {Count(input.Chars, "char")}, {Count(input.Lines, "line")}{documents}");
        string where = models.Endpoint is { } url ? $" @ {url}" : " (keyword retrieval, not an LLM)";
        printer.WriteLine($"Root model: {models.Provider}/{models.RootModel}{where}");
        printer.WriteLine($"Worker model: {models.Provider}/{models.WorkerModel}");
        printer.WriteLine(Invariant($"Limits: {settings.MaxIterations} iterations, depth {settings.MaxDepth}, {settings.MaxConcurrency} concurrent requests"));
        printer.WriteLine(new string('-', 50));
    }

    private void NoteCanceled()
    {
        if (Interlocked.Exchange(ref _canceledNoted, 1) == 0)
        {
            Note("canceled.");
        }
    }

    private void Note(string message)
    {
        _stderr.WriteLine($"rlm: {OneLine(message)}");
        _stderr.Flush();
    }

    private static string Redact(ModelSetup? models, string text) => models?.Redact(text) ?? RedactFromEnvironment(text);

    private static string RedactFromEnvironment(string text) =>
        new SecretRedactor(Environment.GetEnvironmentVariable(ModelSetup.ApiKeyVariable) is { } key ? [key] : []).Redact(text);

    private static string Count(long n, string noun) => Invariant($"{n:N0} {noun}{(n == 1 ? "" : "s")}");

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Settings(string Question, int MaxIterations, int MaxDepth, int MaxConcurrency);
}
