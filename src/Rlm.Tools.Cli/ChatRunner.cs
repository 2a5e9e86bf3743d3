using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.AI;
using Rlm.Tools.OpenAI;
using Spectre.Console;

namespace Rlm.Tools.Cli;

/// <summary>
/// Runs <c>rlm chat</c>: loads the input once as an <see cref="RlmCorpus"/>, then reads questions line by line from standard
/// input and answers each with one <see cref="RlmConversation"/> (answers on stdout; the prompt, notes, per-question status
/// and command output on stderr). A failed question is one line on stderr and the chat goes on.
/// </summary>
/// <remarks>
/// Ctrl+C is handled here rather than by System.CommandLine (whose handler cancels the whole command and ends the process
/// after a grace period): <c>Program</c> turns that handler off for this subcommand. The first Ctrl+C while a question runs
/// cancels only that question; Ctrl+C at the prompt, or again while a question is being canceled, ends the chat (exit 130).
/// At a terminal the questions are read with a line editor and history (<see cref="ChatLineReader"/>). When stdout is not a
/// terminal, answers are separated by one empty line, so piped answers do not run together.
/// </remarks>
internal sealed class ChatRunner(ChatCommand command, ParseResult parseResult)
{
    /// <summary>The prompt, written on stderr when standard input is a terminal.</summary>
    public const string Prompt = "rlm> ";

    private const string HelpText = """
        Type a question and press Enter; the answer is printed on stdout. Commands:
          /usage   turns, tokens and cost so far
          /reset   start a new conversation over the same corpus (earlier questions, variables and globals are dropped)
          /help    this text
          /exit    end the chat (also /quit, Ctrl+D, or Ctrl+C at the prompt)
        Ctrl+C while a question runs cancels that question only.
        """;

    private readonly TextWriter _stderr = Console.Error;
    private Stream? _stdout;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _quit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _question;
    private ModelSetup? _models;

    private ChatUsage _usage = new(isOffline: false, unpricedModel: null);
    private int _answersWritten;
    private volatile bool _ready;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        bool verbose = parseResult.GetValue(command.Options.Verbose);
        bool interactive = !Console.IsInputRedirected;
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnInterrupt);
        using var canceled = cancellationToken.Register(() => _quit.TrySetResult());
        RlmConversation? conversation = null;
        bool quit = false;
        try
        {
            var (options, budgets) = ReadOptions();
            _models = command.Options.ApplyModels(parseResult, options, budgets); // before the input: budget errors first
            _usage = new ChatUsage(_models.IsOffline, _models.IsOffline ? null
                : new[] { _models.RootModel, _models.WorkerModel }.FirstOrDefault(id => id is not null && options.Prices.Find(id) is null));
            var input = await command.Options.LoadInputAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var printer = new ProgressPrinter(_stderr) { Enabled = false };
            if (_models.IsOffline)
            {
                Note($"{_models.OfflineReason}: using the offline model ({OfflineChatClient.ModelId}: keyword retrieval, not an LLM).");
            }

            options.Progress = verbose ? printer : null;
            foreach (string secret in _models.Secrets)
            {
                options.RedactedValues.Add(secret); // never in a prompt, the trace, progress or an error message
            }

            var corpus = input.Corpus; // prepared while loading; under --dir it also says what was skipped
            var rlm = new RecursiveLanguageModel(_models.RootClient, _models.WorkerClient, options);
            conversation = new RlmConversation(rlm, corpus);
            if (interactive || verbose)
            {
                string documents = input.Documents is { } docs ? ", " + Count(docs.Count, "document") : string.Empty;
                string where = _models.Endpoint is { } url ? $" @ {url}" : string.Empty;
                Note($"loaded {input.Source}: {Count(input.Chars, "char")}, {Count(input.Lines, "line")}{documents}; root model {_models.Provider}/{_models.RootModel}{where}. Type /help for commands.");
                foreach (var line in SkipReport.Lines(corpus, maxPaths: verbose ? 20 : 0))
                {
                    Note(line.StartsWith(' ') ? line.TrimStart() : $"skipped {line}");
                }

                foreach (var line in DecodingReport.Lines(input, maxFiles: verbose ? 20 : 0))
                {
                    Note(line);
                }
            }

            var lines = ChatLineReader.Create(Prompt);
            _ready = true;

            // A question given on the command line (rlm chat --file x "q") is the first one; the rest come from stdin.
            if (parseResult.GetValue(command.Question) is { } first && first.Trim() is { Length: > 0 } firstQuestion
                && !await AskAsync(conversation, options, firstQuestion, printer, verbose).ConfigureAwait(false))
            {
                quit = true;
                return Quit(interactive);
            }

            while (true)
            {
                if (interactive && !lines.DrawsPrompt)
                {
                    await _stderr.WriteAsync(Prompt).ConfigureAwait(false);
                    await _stderr.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                }

                var read = lines.ReadLineAsync();
                if (await Task.WhenAny(read, _quit.Task).ConfigureAwait(false) != read)
                {
                    quit = true;
                    return Quit(interactive);
                }

                string? line = await read.ConfigureAwait(false);
                if (line is null)
                {
                    if (interactive && !lines.DrawsPrompt)
                    {
                        await _stderr.WriteLineAsync().ConfigureAwait(false); // end the prompt's line after Ctrl+D
                    }

                    return ExitCodes.Answered;
                }

                line = line.Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                if (TryParseCommand(line, out string name, out bool hasArguments))
                {
                    bool known = name is "/exit" or "/quit" or "/help" or "/?" or "/usage" or "/reset";
                    if (known && hasArguments)
                    {
                        Note($"{name} takes no arguments; the rest of the line is ignored.");
                    }

                    switch (name)
                    {
                        case "/exit" or "/quit":
                            return ExitCodes.Answered;
                        case "/help" or "/?":
                            await _stderr.WriteLineAsync(HelpText.ReplaceLineEndings()).ConfigureAwait(false);
                            await _stderr.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                            break;
                        case "/usage":
                            Note(_usage.UsageLine(conversation));
                            break;
                        case "/reset":
                            conversation.Dispose();
                            conversation = new RlmConversation(rlm, corpus);
                            _usage.Reset();
                            Note("new conversation over the same corpus: earlier questions, answers, variables and JavaScript globals are dropped.");
                            break;
                        default:
                            Note($"unknown command {name} (commands: /help, /usage, /reset, /exit).");
                            break;
                    }

                    continue;
                }

                if (!await AskAsync(conversation, options, line, printer, verbose).ConfigureAwait(false))
                {
                    quit = true;
                    return Quit(interactive);
                }
            }
        }
        catch (AnswerNotWrittenException e)
        {
            // A reader that went away (| head -1), a full device or a closed stdout: asking on would spend tokens for nothing.
            Note(e.Message);
            return ExitCodes.NoFinalAnswer;
        }
        catch (CliUsageException e)
        {
            // The input loader is rlm's: point to this subcommand's help.
            Note(e.Message.Replace("(see rlm --help)", "(see rlm chat --help)", StringComparison.Ordinal));
            return ExitCodes.UsageError;
        }
        catch (Exception e)
        {
            // A bug, not a user mistake: one line, and the stack trace only when asked for with -v.
            Note($"unexpected error: {e.GetType().Name}: {e.Message}");
            if (verbose)
            {
                await _stderr.WriteLineAsync(Redact(e.ToString())).ConfigureAwait(false);
            }

            return ExitCodes.NoFinalAnswer;
        }
        finally
        {
            if (!quit)
            {
                // After Ctrl+C a question may still be unwinding on another thread: the process is ending, leave it be.
                conversation?.Dispose();
                _models?.Dispose();
            }

            _stdout?.Dispose();
        }
    }

    /// <summary>Writes one answer and a line break to standard output, at once (not buffered).</summary>
    /// <exception cref="AnswerNotWrittenException">Standard output cannot be written.</exception>
    private void WriteAnswer(string answer)
    {
        try
        {
            _stdout ??= StandardOutput.Open();
            // Piped or redirected, answers are separated by one empty line (at a terminal the prompt separates them).
            string separator = _answersWritten > 0 && Console.IsOutputRedirected ? Environment.NewLine : string.Empty;
            _stdout.Write(new UTF8Encoding(false).GetBytes(separator + TerminalText.ForStandardOutput(answer) + Environment.NewLine));
            _stdout.Flush();
            _answersWritten++;
        }
        catch (Exception e) when (StandardOutput.IsWriteFailure(e))
        {
            throw new AnswerNotWrittenException($"cannot write the answer to standard output: {StandardOutput.Describe(e)}; the chat ends");
        }
    }

    private sealed class AnswerNotWrittenException(string message) : Exception(message);

    /// <summary>
    /// Answers one question. Returns <see langword="false"/> when the chat must end (Ctrl+C again while the question was
    /// being canceled); every other outcome, failures included, is reported on stderr and the chat goes on.
    /// </summary>
    private async Task<bool> AskAsync(RlmConversation conversation, RlmOptions options, string question, ProgressPrinter printer, bool verbose)
    {
        using var cts = new CancellationTokenSource();
        lock (_lock)
        {
            _question = cts;
        }

        printer.Enabled = verbose;
        try
        {
            var ask = conversation.AskAsync(question, cts.Token);
            if (await Task.WhenAny(ask, _quit.Task).ConfigureAwait(false) != ask)
            {
                return false;
            }

            RlmResult result;
            try
            {
                result = await ask.ConfigureAwait(false);
            }
            finally
            {
                EndQuestion(printer);
            }

            if (verbose)
            {
                TraceRenderer.WriteReport(result);
            }

            WriteAnswer(result.Answer);
            _usage.AddTurn(result);
            Note(_usage.StatusLine(conversation.Turns.Count, result));
            if (CliLimits.DescribeUnpricedModels(result, options) is { } unpriced)
            {
                Note(unpriced);
            }

            if (CliLimits.DescribeBudgetStop(result, options) is { } stopped)
            {
                Note($"{stopped}; {(result.Answer.Length > 0 ? "no final answer: the answer above is the best this question got" : "this question got no answer")}.");
            }
            else if (!result.IsFinal)
            {
                Note($"no final answer ({RlmStopReasonText.Describe(result.StopReason)}): {(result.Answer.Length > 0 ? "the answer above is the best this question got" : "this question got no answer")}.");
            }
            else if (result.AllSubCallsFailed)
            {
                Note(Invariant($"every sub-call failed ({result.Statistics.FailedSubCalls} of {result.Statistics.SubCalls}): the answer above rests on no worker result (-v shows the errors)."));
            }
        }
        catch (AnswerNotWrittenException)
        {
            throw; // nobody reads the answers: the chat ends (RunAsync)
        }
        catch (Exception) when (cts.IsCancellationRequested)
        {
            Note("question canceled; the conversation is kept (Ctrl+C at the prompt ends the chat).");
        }
        catch (RlmModelException e)
        {
            if (e.PartialResult is { } partial)
            {
                _usage.AddFailed(partial);
            }

            // Already one line, redacted, with the attempts made and the classified cause.
            Note($"{ModelSetup.EndpointFailed(_models, e.Message)} (the question is dropped; the conversation is kept)");
        }
        catch (Exception e) when (OpenAIErrors.IsEndpointError(e))
        {
            Note($"{ModelSetup.EndpointFailed(_models, OpenAIErrors.Describe(e))} (the question is dropped; the conversation is kept)");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Note($"unexpected error: {e.GetType().Name}: {e.Message} (the question is dropped; the conversation is kept)");
            if (verbose)
            {
                await _stderr.WriteLineAsync(Redact(e.ToString())).ConfigureAwait(false);
            }
        }
        finally
        {
            EndQuestion(printer);
        }

        return true;
    }

    /// <summary>The question is over: a Ctrl+C from now on is at the prompt, and late progress events are not printed.</summary>
    private void EndQuestion(ProgressPrinter printer)
    {
        lock (_lock)
        {
            _question = null;
        }

        printer.Enabled = false;
    }

    /// <summary>
    /// SIGINT (Ctrl+C): cancel the running question, or end the chat when none runs or it is already being canceled; while
    /// the input is still loading, end the process at once.
    /// </summary>
    private void OnInterrupt(PosixSignalContext context)
    {
        if (!_ready)
        {
            // Still loading the input (a synchronous read of files): let the signal end the process at once (exit 130).
            Note("canceled.");
            return;
        }

        context.Cancel = true; // the process does not end by itself; the loop decides
        CancellationTokenSource? question;
        lock (_lock)
        {
            question = _question is { IsCancellationRequested: false } running ? running : null;
            if (question is not null)
            {
                // Canceled under the lock: the question's finally (EndQuestion) cannot dispose it meanwhile.
                question.Cancel();
                return;
            }
        }

        _quit.TrySetResult();
    }

    private int Quit(bool interactive)
    {
        if (interactive)
        {
            _stderr.WriteLine(); // the prompt's line
        }

        Note("canceled.");
        return ExitCodes.Canceled;
    }

    /// <summary>
    /// A line is a command when its first word is <c>/</c> followed by letters only (<c>/usage</c>, <c>/Exit</c>), so a
    /// question such as "/etc/hosts: which hosts?" is still a question.
    /// </summary>
    internal static bool TryParseCommand(string line, out string name, out bool hasArguments)
    {
        int space = line.IndexOfAny([' ', '\t']);
        string first = space < 0 ? line : line[..space];
        hasArguments = space >= 0;
        name = first.ToLowerInvariant();
        return first == "/?" || (first.Length > 1 && first[0] == '/' && name.AsSpan(1).IndexOfAnyExceptInRange('a', 'z') < 0);
    }

    private (RlmOptions Options, CliBudgets Budgets) ReadOptions()
    {
        if (parseResult.GetValue(command.Stdin))
        {
            throw new CliUsageException("rlm chat reads the questions from standard input, so the input cannot come from --stdin too: give --file PATH (repeatable) or --dir PATH");
        }

        if (parseResult.GetResult(command.Options.Files) is null && parseResult.GetResult(command.Options.Dir) is null)
        {
            throw new CliUsageException("no input: give --file PATH (repeatable) or --dir PATH (see rlm chat --help)");
        }

        return command.Options.ReadRunOptions(parseResult);
    }

    private void Note(string message) => CliNotes.Write(_stderr, Redact(message));

    private string Redact(string text) =>
        _models?.Redact(text) ?? new SecretRedactor(Environment.GetEnvironmentVariable(ModelSetup.ApiKeyVariable) is { } key ? [key] : []).Redact(text);

    private static string Count(long n, string noun) => Invariant($"{n:N0} {noun}{(n == 1 ? "" : "s")}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
