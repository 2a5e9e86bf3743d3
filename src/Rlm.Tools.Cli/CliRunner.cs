using System.CommandLine;
using System.Globalization;
using System.Text;
using Rlm.Tools.Context;
using Rlm.Tools.OpenAI;
using Rlm.Tools.Orchestration;
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
    private CliOutputSchema? _schema; // --output-schema: read before the run, holds the parsed value or the mismatch after it

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        // System.CommandLine installs its Ctrl+C handler only once this method returns its task; without the yield, a
        // synchronous stretch (reading a pipe on stdin) would run before it and Ctrl+C would kill the process outright.
        await Task.Yield();
        ModelSetup? models = null;
        bool verbose = parseResult.GetValue(command.Options.Verbose);

        // Say so at once on Ctrl+C or SIGTERM: TerminationSignals ends the process if the run does not stop in a few seconds.
        // (The catch below says it too: cancellation may unwind this method inline, before this callback's turn.)
        using var canceled = cancellationToken.Register(NoteCanceled);
        CliInput? input = null;
        string? question = null;
        try
        {
            var settings = ReadSettings();
            CheckOutputPaths();
            _schema = CliOutputSchema.Read(parseResult.GetValue(command.OutputSchema));
            models = command.Options.CreateModels(parseResult);
            var printer = new ProgressPrinter(_stderr);
            var options = new RlmOptions
            {
                MaxIterations = settings.MaxIterations,
                MaxDepth = settings.MaxDepth,
                MaxConcurrency = settings.MaxConcurrency,
                RootModelId = models.RootModel,
                WorkerModelId = models.WorkerModel,
                Workers = [.. models.Workers],
                Progress = verbose ? printer : null,
                AutoSplitOversizedSubCalls = parseResult.GetValue(command.Options.AutoSplit),
                CitationPolicy = parseResult.GetValue(command.Options.Citations),
            };

            // Before the input is loaded: a --max-cost without prices for the models is a usage error.
            settings.Budgets.ApplyTo(options);

            // The input first: its mistakes (none given, two given) are found before --question-file - waits on stdin.
            input = await command.Options.LoadInputAsync(parseResult, cancellationToken).ConfigureAwait(false);
            question = settings.Question ?? await ReadQuestionFileAsync(cancellationToken).ConfigureAwait(false);
            if (models.IsOffline)
            {
                Note($"{models.OfflineReason}: using the offline model ({OfflineChatClient.ModelId}: keyword retrieval, not an LLM).");
            }

            if (settings.Timeout is { } timeout)
            {
                options.ModelRequestTimeout = timeout;
            }

            foreach (string secret in models.Secrets)
            {
                options.RedactedValues.Add(secret); // never in a prompt, the trace, progress or an error message
            }

            if (verbose)
            {
                RunHeader.Write(printer, input, models, settings.MaxIterations, settings.MaxDepth, settings.MaxConcurrency, settings.Budgets);
            }

            var rlm = new RecursiveLanguageModel(models.RootClient, models.WorkerClient, options);
            var result = _schema is null
                ? await rlm.QueryAsync(question, input.Corpus, cancellationToken).ConfigureAwait(false)
                : await _schema.QueryAsync(rlm, question, input.Corpus, options, cancellationToken).ConfigureAwait(false);
            printer.Enabled = false;

            if (verbose)
            {
                TraceRenderer.WriteReport(result);
                await _stderr.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            // The answer first: a trajectory that cannot be written after all must not cost the user the answer (nor a
            // stdout that cannot be written the trajectory).
            bool trajectoryWritten;
            try
            {
                WriteAnswer(result, models, input, error: null);
            }
            finally
            {
                trajectoryWritten = WriteTrajectory(result, question);
            }

            if (CliLimits.DescribeUnpricedModels(result, options) is { } unpriced)
            {
                Note(unpriced);
            }

            if (!result.IsFinal)
            {
                string? budget = CliLimits.DescribeBudgetStop(result, options);
                string why = result.Answer.Length == 0
                    ? budget is null ? LowerFirst(result.StopMessage?.TrimEnd('.') ?? "the run stopped without an answer") : "no answer to print"
                    : RlmStopReasonText.DescribeNoFinalAnswer(result.StopReason, includeWhy: budget is null) ?? "no final answer";
                Note($"{(budget is null ? "" : budget + "; ")}{why}.");
                return ExitCodes.NoFinalAnswer;
            }

            if (!trajectoryWritten)
            {
                return ExitCodes.NoFinalAnswer;
            }

            if (_schema?.Error is { } mismatch)
            {
                Note($"{mismatch} (the answer printed is the model's raw answer).");
                return ExitCodes.NoFinalAnswer;
            }

            if (result.AllSubCallsFailed)
            {
                Note(Invariant($"every sub-call failed ({result.Statistics.FailedSubCalls} of {result.Statistics.SubCalls}): the answer above rests on no worker result (-v shows the errors)."));
                return ExitCodes.NoFinalAnswer;
            }

            return ExitCodes.Answered;
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested)
        {
            // Canceled (Ctrl+C, SIGTERM): whatever broke off, including a read of stdin cut short, is not the user's mistake.
            NoteCanceled();
            ReportFailedRun(e, "canceled", models, input, question);
            return ExitCodes.Canceled;
        }
        catch (CliUsageException e)
        {
            if (e.FromStream && await CanceledWithinAsync(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false))
            {
                NoteCanceled();
                return ExitCodes.Canceled;
            }

            return Finish(Redact(models, e.Message)) ? ExitCodes.UsageError : ExitCodes.Canceled;
        }
        catch (AnswerNotWrittenException e)
        {
            return Finish(e.Message) ? ExitCodes.NoFinalAnswer : ExitCodes.Canceled;
        }
        catch (RlmModelException e)
        {
            // Already one line, redacted, with the attempts made and the classified cause.
            string error = Redact(models, ModelSetup.EndpointFailed(models, e.Message));
            Note(error);
            ReportFailedRun(e, error, models, input, question);
            return ExitCodes.NoFinalAnswer;
        }
        catch (Exception e) when (OpenAIErrors.IsEndpointError(e))
        {
            string error = Redact(models, ModelSetup.EndpointFailed(models, OpenAIErrors.Describe(e)));
            Note(error);
            ReportFailedRun(e, error, models, input, question);
            return ExitCodes.NoFinalAnswer;
        }
        catch (Exception e)
        {
            // A bug, not a user mistake: one line, and the stack trace only when asked for with -v.
            string error = Redact(models, $"unexpected error: {e.GetType().Name}: {TextLimits.OneLine(e.Message, int.MaxValue)}");
            Note(error);
            if (verbose)
            {
                await _stderr.WriteLineAsync(Redact(models, e.ToString())).ConfigureAwait(false);
            }

            ReportFailedRun(e, error, models, input, question);
            return ExitCodes.NoFinalAnswer;
        }
        finally
        {
            models?.Dispose();
        }
    }

    private Settings ReadSettings()
    {
        string? question = parseResult.GetValue(command.Question)?.Trim();
        string? questionFile = parseResult.GetValue(command.QuestionFile);
        if (question is not null && question.StartsWith("--", StringComparison.Ordinal) && !question.Contains(' ', StringComparison.Ordinal))
        {
            // An unknown option before the question is taken for the question.
            throw new CliUsageException($"unrecognized option {question} (see rlm --help)");
        }

        if (parseResult.GetResult(command.QuestionFile) is not null)
        {
            if (parseResult.GetResult(command.Question) is { Tokens.Count: > 0 })
            {
                throw new CliUsageException("give the question either as an argument or with --question-file, not both");
            }

            if (string.IsNullOrWhiteSpace(questionFile))
            {
                throw new CliUsageException("--question-file needs a path (- for standard input)");
            }

            if (questionFile == "-" && parseResult.GetValue(command.Options.Stdin))
            {
                throw new CliUsageException("--question-file - and --stdin both read standard input: give the input with --file or --dir");
            }

            if (questionFile != "-" && !File.Exists(questionFile))
            {
                // Checked now, before the input is loaded (it may be large); read after it.
                throw new CliUsageException(Directory.Exists(questionFile) ? $"--question-file {questionFile} is a directory" : $"file not found: {questionFile}");
            }
        }
        else if (string.IsNullOrEmpty(question))
        {
            // "rlm --file 'What is X?'": the question went to --file; say so rather than only that it is missing.
            string hint = (parseResult.GetValue(command.Options.Files) ?? []).Select(InputLoader.ReadAsPathHint).FirstOrDefault(h => h.Length > 0) ?? string.Empty;
            throw new CliUsageException(parseResult.GetResult(command.Question) is { Tokens.Count: > 0 }
                ? "the question is empty (see rlm --help)"
                : $"the question is missing: rlm \"<question>\" (--file PATH | --dir PATH | --stdin), or --question-file PATH{hint}");
        }

        TimeSpan? timeout = CliLimits.ReadTimeout(parseResult, command.Options.Timeout);
        var budgets = CliLimits.ReadBudgets(parseResult, command.Options.MaxTokens, command.Options.MaxCost, command.Options.MaxTime);

        int maxIterations = parseResult.GetValue(command.Options.MaxIterations);
        int maxDepth = parseResult.GetValue(command.Options.MaxDepth);
        int maxConcurrency = parseResult.GetValue(command.Options.MaxConcurrency);
        CliLimits.Validate(maxIterations, maxDepth, maxConcurrency);

        if (parseResult.GetValue(command.TrajectorySensitive) && parseResult.GetValue(command.Trajectory) is null)
        {
            throw new CliUsageException("--trajectory-sensitive needs --trajectory PATH");
        }

        return new Settings(question, maxIterations, maxDepth, maxConcurrency, timeout, budgets);
    }

    /// <summary>Reads <c>--question-file</c> on a worker thread: a FIFO or a terminal blocks, and Ctrl+C must still end the wait.</summary>
    private async Task<string> ReadQuestionFileAsync(CancellationToken cancellationToken)
    {
        string path = parseResult.GetValue(command.QuestionFile)!;
        string question = (await Task.Run(() => InputLoader.ReadQuestionFile(path, cancellationToken), cancellationToken)
            .WaitAsync(cancellationToken).ConfigureAwait(false)).Trim();
        if (question.Length == 0)
        {
            throw new CliUsageException($"the question is empty: {(path == "-" ? "nothing on standard input" : path)}") { FromStream = path == "-" };
        }

        return question;
    }

    /// <summary>Writes the answer (or the <c>--json</c> report) to stdout; a failed write (a full device, a closed stdout) says what failed.</summary>
    /// <remarks>Without <c>--json</c>, a run without an answer (a budget stop before any reply) prints nothing: the reason goes to stderr.</remarks>
    private void WriteAnswer(RlmResult result, ModelSetup models, CliInput input, string? error)
    {
        try
        {
            using var stdout = StandardOutput.Open();
            if (parseResult.GetValue(command.Json) && Console.IsOutputRedirected)
            {
                JsonReport.Write(stdout, result, models, input, error ?? _schema?.Error, _schema?.Value);
            }
            else if (parseResult.GetValue(command.Json))
            {
                // On a terminal: JSON escapes control characters already, but not bidirectional overrides.
                using var report = new MemoryStream();
                JsonReport.Write(report, result, models, input, error ?? _schema?.Error, _schema?.Value);
                stdout.Write(new UTF8Encoding(false).GetBytes(TerminalText.Inert(Encoding.UTF8.GetString(report.ToArray()))));
            }
            else if (result.Answer.Length > 0)
            {
                byte[] answer = new UTF8Encoding(false).GetBytes(TerminalText.ForStandardOutput(result.Answer) + Environment.NewLine);
                stdout.Write(answer);
            }

            stdout.Flush();
        }
        catch (Exception e) when (StandardOutput.IsWriteFailure(e))
        {
            throw new AnswerNotWrittenException($"cannot write the answer to standard output: {StandardOutput.Describe(e)}");
        }
    }

    /// <summary>Whether <paramref name="cancellationToken"/> is canceled now or within <paramref name="grace"/>.</summary>
    /// <remarks>
    /// Ctrl+C signals the whole foreground process group at once: the process writing to our stdin may die and close the
    /// pipe before the runtime has turned SIGINT into a cancellation, so an input that "ended empty" may be a Ctrl+C
    /// still on its way. A short wait settles the race in favour of the cancellation.
    /// </remarks>
    private static async Task<bool> CanceledWithinAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(grace, cancellationToken).ConfigureAwait(false);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>
    /// Writes <c>--trajectory</c>; returns <see langword="false"/> after a warning on stderr when the file cannot be written
    /// after all (its path was checked before the run, see <see cref="CheckOutputPaths"/>).
    /// </summary>
    private bool WriteTrajectory(RlmResult result, string question)
    {
        if (parseResult.GetValue(command.Trajectory) is not { } path)
        {
            return true;
        }

        try
        {
            using var file = File.Create(path);
            RlmTrajectoryWriter.WriteJsonLines(result, file, new RlmTrajectoryOptions
            {
                IncludeSensitiveData = parseResult.GetValue(command.TrajectorySensitive),
                Question = question,
            });
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Note($"warning: cannot write the trajectory to {path}: {(e is UnauthorizedAccessException ? "permission denied" : TextLimits.OneLine(e.Message, int.MaxValue))}");
            return false;
        }
    }

    /// <summary>Refuses, before anything is paid for, an output file that could not be written after the run.</summary>
    private void CheckOutputPaths()
    {
        if (parseResult.GetValue(command.Trajectory) is { } path && OutputPath.Problem(path) is { } problem)
        {
            throw new CliUsageException($"cannot write the trajectory to {path}: {problem} (checked before the run: nothing was sent to the model)");
        }
    }

    /// <summary>
    /// What a failed run (endpoint failure, cancellation, a bug) still gives: its partial trajectory (<c>--trajectory</c>)
    /// and, with <c>--json</c>, one JSON object with the stop reason, the error and what the run had (usage, statistics,
    /// trajectory so far). Nothing when the run never started.
    /// </summary>
    private void ReportFailedRun(Exception exception, string error, ModelSetup? models, CliInput? input, string? question)
    {
        if (models is null || input is null || question is null || PartialResults.Of(exception) is not { } partial)
        {
            return;
        }

        WriteTrajectory(partial, question);
        if (parseResult.GetValue(command.Json))
        {
            try
            {
                WriteAnswer(partial, models, input, error);
            }
            catch (AnswerNotWrittenException e)
            {
                Note(e.Message);
            }
        }
    }

    private static string LowerFirst(string text) => text.Length > 0 ? char.ToLowerInvariant(text[0]) + text[1..] : text;

    private void NoteCanceled()
    {
        if (Interlocked.Exchange(ref _canceledNoted, 1) == 0)
        {
            Note("canceled.");
        }
    }

    /// <summary>
    /// Writes the run's one closing error line and returns <see langword="true"/>; returns <see langword="false"/> when
    /// Ctrl+C came first and "canceled." is already said (the run then ends as canceled). A Ctrl+C arriving after the
    /// line adds no second verdict.
    /// </summary>
    private bool Finish(string message)
    {
        if (Interlocked.Exchange(ref _canceledNoted, 1) != 0)
        {
            return false;
        }

        Note(message);
        return true;
    }

    private void Note(string message) => CliNotes.Write(_stderr, message);

    private static string Redact(ModelSetup? models, string text) => CliNotes.Redact(models, text);

    private static string Count(long n, string noun) => Invariant($"{n:N0} {noun}{(n == 1 ? "" : "s")}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Settings(string? Question, int MaxIterations, int MaxDepth, int MaxConcurrency, TimeSpan? Timeout, CliBudgets Budgets);

    /// <summary>The answer could not be written to stdout (exit code 1, one line naming what failed).</summary>
    private sealed class AnswerNotWrittenException(string message) : Exception(message);
}
