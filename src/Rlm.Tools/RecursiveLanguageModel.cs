using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Orchestration;

namespace Rlm.Tools;

/// <summary>
/// A Recursive Language Model (Zhang, Kraska, Khattab, arXiv 2512.24601): answers a question over a context far larger
/// than any model's window by keeping the context out of the prompt and letting a root model explore it with tools.
/// </summary>
public sealed partial class RecursiveLanguageModel
{
    // Copied in, never handed out (Options gives copies): the constructor's check of the custom tools holds for every run.
    private readonly RlmOptions _options;

    /// <summary>Creates a Recursive Language Model.</summary>
    /// <param name="rootClient">The root model, which drives the tools at depth 0.</param>
    /// <param name="workerClient">The worker model for sub-calls (depth 1 and below); <see langword="null"/> uses <paramref name="rootClient"/>.</param>
    /// <param name="options">Options; <see langword="null"/> uses the defaults of <see cref="RlmOptions"/>. They are copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="rootClient"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A window in <see cref="RlmOptions.ModelContextWindows"/> is less than 1 token.</exception>
    /// <exception cref="ArgumentException">A custom tool of <see cref="RlmOptions.Tools"/> is unnamed or named twice, or a worker of <see cref="RlmOptions.Workers"/> is null or named twice.</exception>
    public RecursiveLanguageModel(IChatClient rootClient, IChatClient? workerClient = null, RlmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rootClient);
        RootClient = rootClient;
        WorkerClient = workerClient ?? rootClient;
        _options = options?.Clone() ?? new RlmOptions();
        Tools.RlmToolSet.ValidateCustomTools(_options.Tools);
        RlmModelContextWindows.Validate(_options.ModelContextWindows);
        Tools.WorkerChoice.Validate(_options.Workers);
    }

    /// <summary>Gets the root model.</summary>
    public IChatClient RootClient { get; }

    /// <summary>Gets the worker model.</summary>
    public IChatClient WorkerClient { get; }

    /// <summary>
    /// Gets a copy of the options in force: a new copy on each read, so changing it (a limit, <see cref="RlmOptions.Tools"/>)
    /// changes nothing of this instance. To run with other options, make a new instance from the changed copy.
    /// </summary>
    public RlmOptions Options => _options.Clone();

    /// <summary>Answers <paramref name="query"/> over one string context.</summary>
    /// <param name="query">The question.</param>
    /// <param name="context">The context; it is never sent in a prompt, only explored through tools.</param>
    /// <param name="cancellationToken">Cancels every model request and tool of the run.</param>
    /// <returns>The answer, why the run stopped, usage, statistics and trajectory.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="context"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty or white space.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good (see <see cref="RlmOptions.MaxModelRetries"/>); <see cref="RlmModelException.PartialResult"/> holds the run so far.</exception>
    public Task<RlmResult> QueryAsync(string query, string context, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(context);
        return RunAsync(query, ContextText.FromString(context), cancellationToken);
    }

    /// <summary>Answers <paramref name="query"/> over several named documents (for example the files of a directory).</summary>
    /// <param name="query">The question.</param>
    /// <param name="documents">The documents, joined in order into one context; tool output names the document and line of each hit.</param>
    /// <param name="cancellationToken">Cancels every model request and tool of the run.</param>
    /// <returns>The answer, why the run stopped, usage, statistics and trajectory.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="documents"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty, or the documents are empty or too large for one context.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good (see <see cref="RlmOptions.MaxModelRetries"/>); <see cref="RlmModelException.PartialResult"/> holds the run so far.</exception>
    public Task<RlmResult> QueryAsync(string query, IReadOnlyList<RlmDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        return RunAsync(query, Documents(documents), cancellationToken);
    }

    /// <summary>Answers <paramref name="query"/> over a prepared <see cref="RlmCorpus"/>, reusing its line index.</summary>
    /// <param name="query">The question.</param>
    /// <param name="corpus">The prepared context (see <see cref="RlmCorpus"/>); shared, never modified.</param>
    /// <param name="cancellationToken">Cancels every model request and tool of the run.</param>
    /// <returns>The answer, why the run stopped, usage, statistics and trajectory.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="corpus"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty or white space.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good; <see cref="RlmModelException.PartialResult"/> holds the run so far.</exception>
    public Task<RlmResult> QueryAsync(string query, RlmCorpus corpus, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(corpus);
        return RunAsync(query, corpus.Text, cancellationToken);
    }

    /// <summary>
    /// Returns this RLM as a tool for other agents: an <see cref="AIFunction"/> bound by the host to <paramref name="corpus"/>,
    /// whose parameters are the question and an optional document filter. The calling model never passes the corpus.
    /// </summary>
    /// <param name="corpus">The corpus every call answers over.</param>
    /// <param name="name">The function's name as the calling model sees it. Default <c>query_corpus</c>.</param>
    /// <param name="description">The function's description; <see langword="null"/> describes the corpus (its documents and size).</param>
    /// <returns>
    /// A function with parameters <c>question</c> (string, required) and <c>documents</c> (string, optional: only documents
    /// whose names contain it, case-insensitive). It returns <see cref="RlmToolAnswer"/> (serialized as camelCase JSON by
    /// M.E.AI): the answer, whether the inner run ended with <c>final</c>, and the inner run's usage and sub-calls, so the
    /// caller can account for them. One call is one run with this instance's options, and the defaults of <see cref="RlmCorpusToolOptions"/>: a
    /// question of at most 100,000 characters, per-query budgets of 10 minutes and 1,000,000 tokens where the options set
    /// none, and the process-wide <see cref="RlmQueryLimiter.Shared"/> (see
    /// <see cref="AsAIFunction(RlmCorpus, RlmCorpusToolOptions)"/>); when the call's
    /// <see cref="AIFunctionArguments.Services"/> provide an <see cref="IProgress{T}"/> of <see cref="RlmEvent"/>, that call's
    /// events are reported to it as well as to <see cref="RlmOptions.Progress"/> (an MCP server turns them into progress
    /// notifications per request). An empty question or a filter no document name matches is an
    /// <see cref="ArgumentException"/> whose message is meant for the caller (its <see cref="ArgumentException.ParamName"/> is
    /// <c>question</c> or <c>documents</c>; the filter's names the documents there are); a root-model failure of the inner
    /// run is thrown as <see cref="RlmModelException"/>. Inside a <see cref="FunctionInvokingChatClient"/> (which shows a
    /// model only "Function failed" for an exception) these errors, a busy <see cref="RlmQueryLimiter"/> and an argument
    /// M.E.AI could not bind are returned instead as the result text <c>Error: </c> and the message, so the calling model
    /// reads what to change.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="corpus"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not 1 to 64 ASCII letters, digits, <c>_</c> and <c>-</c> (see <see cref="RlmCorpusToolOptions.Name"/>).</exception>
    public AIFunction AsAIFunction(RlmCorpus corpus, string name = "query_corpus", string? description = null) =>
        AsAIFunction(corpus, new RlmCorpusToolOptions { Name = name, Description = description });

    /// <summary>
    /// Returns this RLM as a tool for other agents, bound to <paramref name="corpus"/>, with the name, description and
    /// limits of <paramref name="options"/>; otherwise as <see cref="AsAIFunction(RlmCorpus, string, string?)"/>. The caller is
    /// untrusted: a question longer than <see cref="RlmCorpusToolOptions.MaxQuestionChars"/> is an <see cref="ArgumentException"/>;
    /// each call waits for a turn of <see cref="RlmCorpusToolOptions.QueryLimiter"/> (reporting <see cref="RlmQueryQueued"/>
    /// to the call's progress) and fails with <see cref="RlmServerBusyException"/> when it cannot get one; each run has the
    /// default budgets of <paramref name="options"/> where this instance's options set none.
    /// </summary>
    /// <param name="corpus">The corpus every call answers over.</param>
    /// <param name="options">The tool's name, description and limits.</param>
    /// <returns>A function with parameters <c>question</c> and <c>documents</c> that returns <see cref="RlmToolAnswer"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="corpus"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    public AIFunction AsAIFunction(RlmCorpus corpus, RlmCorpusToolOptions options)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        var runOptions = options.ApplyDefaults(_options);
        var outputSchema = options.OutputSchema;
        if (outputSchema is { } checkedSchema)
        {
            _ = AnswerFormat.ForSchema(checkedSchema, 0); // a schema JsonSchema.Net cannot read fails here, not at the first call
        }

        var limiter = options.QueryLimiter;
        int maxQuestionChars = options.MaxQuestionChars;
        string description = options.Description ?? string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Answers a question over a corpus too large to read directly ({corpus.Length:N0} characters{(corpus.Documents.Count > 0 ? $" in {corpus.Documents.Count:N0} documents" : "")}) with a Recursive Language Model. Ask one self-contained question; the answer cites document:line where it can. {options.Describe(runOptions)}");

        var function = AIFunctionFactory.Create(
            async (
                [System.ComponentModel.Description("The question to answer over the corpus, self-contained.")] string question,
                [System.ComponentModel.Description("Optional: only documents whose names contain this text (case-insensitive).")] string? documents = null,
                IServiceProvider? services = null,
                CancellationToken cancellationToken = default) =>
            {
                if (string.IsNullOrWhiteSpace(question))
                {
                    throw new ArgumentException("The question argument is empty: ask one self-contained question about the corpus.", nameof(question));
                }

                if (question.Length > maxQuestionChars)
                {
                    throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"The question argument has {question.Length:N0} characters, more than the {maxQuestionChars:N0} this tool takes. Ask a shorter question; the corpus is already on the server."), nameof(question));
                }

                var target = corpus;
                if (!string.IsNullOrWhiteSpace(documents) && corpus.Documents.Count > 0)
                {
                    target = corpus.Filter(documents.Trim()) ?? throw new ArgumentException(UnmatchedFilter(corpus, documents.Trim()), nameof(documents));
                }

                var progress = services?.GetService(typeof(IProgress<RlmEvent>)) as IProgress<RlmEvent>;
                Action<RlmEvent>? report = progress is null && runOptions.Progress is null ? null : e =>
                {
                    progress?.Report(e);
                    runOptions.Progress?.Report(e);
                };
                using var turn = await limiter.EnterAsync(report, cancellationToken).ConfigureAwait(false);
                var format = outputSchema is { } schema ? AnswerFormat.ForSchema(schema, runOptions.MaxAnswerFormatRetries) : null;
                var result = await RunAsync(question.Trim(), target.Text, cancellationToken, progress is null ? null : progress.Report, options: runOptions, answerFormat: format).ConfigureAwait(false);
                format?.EnsureValid(result);
                return new RlmToolAnswer(result.Answer, result.IsFinal, RlmStopReasonText.GetName(result.StopReason), result.Usage.InputTokenCount ?? 0, result.Usage.OutputTokenCount ?? 0,
                    result.Statistics.ModelCalls, result.Statistics.SubCalls, result.Statistics.FailedSubCalls)
                {
                    Citations = result.Citations,
                };
            },
            new AIFunctionFactoryOptions { Name = options.Name, Description = description });
        return new CorpusToolFunction(function, outputSchema is { } declared ? CorpusToolFunction.WithAnswerSchema(function.ReturnJsonSchema, declared) : null);
    }

    /// <summary>What a calling model needs to fix a <c>documents</c> filter no name contains: the filter, and the names there are (at most 20).</summary>
    private static string UnmatchedFilter(RlmCorpus corpus, string filter)
    {
        const int MaxNames = 20;
        var names = corpus.DocumentNames;
        string shown = string.Join(", ", names.Take(MaxNames));
        string more = names.Count > MaxNames ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $", … and {names.Count - MaxNames:N0} more") : string.Empty;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"The documents argument '{Context.TextLimits.OneLine(filter, 200)}' is in no document name (it selects the documents whose names contain it, ignoring case). The {names.Count:N0} documents are: {shown}{more}. Give part of one of these names, or leave documents out to search them all.");
    }

    /// <summary>
    /// Answers <paramref name="query"/> over <paramref name="corpus"/> as a stream of typed events (<see cref="RlmEvent"/>):
    /// <see cref="RlmIterationStarted"/>, <see cref="RlmModelResponded"/> (with usage), <see cref="RlmModelRetry"/>,
    /// <see cref="RlmParallelCalls"/>, <see cref="RlmToolCallStarted"/> / <see cref="RlmToolCallEnded"/>,
    /// <see cref="RlmSubCallStarted"/> / <see cref="RlmSubCallEnded"/>, <see cref="RlmIterationsStopped"/>,
    /// <see cref="RlmSessionCompleted"/>, <see cref="RlmBudgetWarning"/>, and last <see cref="RlmRunCompleted"/> with the
    /// answer and the result. <see cref="RlmOptions.Progress"/>, when set, receives the same events.
    /// </summary>
    /// <param name="query">The question.</param>
    /// <param name="corpus">The prepared context.</param>
    /// <param name="cancellationToken">Cancels the run; stopping the enumeration early cancels it too.</param>
    /// <returns>The events in the order they happened (events of parallel sub-calls interleave).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="corpus"/> is <see langword="null"/>.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good (thrown by the enumeration, after the events before it).</exception>
    public IAsyncEnumerable<RlmEvent> QueryStreamingAsync(string query, RlmCorpus corpus, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(corpus);
        return StreamAsync(query, corpus.Text, cancellationToken);
    }

    /// <summary>Answers <paramref name="query"/> over one string context as a stream of typed events (see <see cref="QueryStreamingAsync(string, RlmCorpus, CancellationToken)"/>).</summary>
    /// <param name="query">The question.</param>
    /// <param name="context">The context.</param>
    /// <param name="cancellationToken">Cancels the run; stopping the enumeration early cancels it too.</param>
    /// <returns>The events in the order they happened.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="context"/> is <see langword="null"/>.</exception>
    public IAsyncEnumerable<RlmEvent> QueryStreamingAsync(string query, string context, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(context);
        return StreamAsync(query, ContextText.FromString(context), cancellationToken);
    }

    /// <summary>Answers <paramref name="query"/> over several named documents as a stream of typed events (see <see cref="QueryStreamingAsync(string, RlmCorpus, CancellationToken)"/>).</summary>
    /// <param name="query">The question.</param>
    /// <param name="documents">The documents, joined in order into one context (as <see cref="QueryAsync(string, IReadOnlyList{RlmDocument}, CancellationToken)"/> does).</param>
    /// <param name="cancellationToken">Cancels the run; stopping the enumeration early cancels it too.</param>
    /// <returns>The events in the order they happened (events of parallel sub-calls interleave).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="documents"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty, or the documents are empty or too large for one context.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good (thrown by the enumeration, after the events before it).</exception>
    public IAsyncEnumerable<RlmEvent> QueryStreamingAsync(string query, IReadOnlyList<RlmDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        return StreamAsync(query, Documents(documents), cancellationToken);
    }

    private async IAsyncEnumerable<RlmEvent> StreamAsync(string query, ContextText text, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, AnswerFormat? answerFormat = null)
    {
        var events = System.Threading.Channels.Channel.CreateUnbounded<RlmEvent>(new() { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = Task.Run(async () =>
        {
            try
            {
                await RunAsync(query, text, stop.Token, e => events.Writer.TryWrite(e), answerFormat: answerFormat).ConfigureAwait(false); // RlmRunCompleted is its last event
                events.Writer.TryComplete();
            }
            catch (Exception e)
            {
                events.Writer.TryComplete(e);
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var item in events.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            // The consumer stopped early (or the run ended): cancel the run and let it finish before returning.
            await stop.CancelAsync().ConfigureAwait(false);
            await run.ConfigureAwait(false);
        }
    }

    /// <summary>One question of an <see cref="RlmConversation"/>: the root session shares <paramref name="state"/>.</summary>
    internal Task<RlmResult> RunInConversationAsync(string query, RlmCorpus corpus, ConversationState state, CancellationToken cancellationToken) =>
        RunAsync(query, corpus.Text, cancellationToken, events: null, state);

    /// <summary>Joins documents into one context; at least one is required.</summary>
    private static ContextText Documents(IReadOnlyList<RlmDocument> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        return documents.Count == 0
            ? throw new ArgumentException("At least one document is required.", nameof(documents))
            : ContextText.FromDocuments(documents);
    }

    private async Task<RlmResult> RunAsync(string query, ContextText text, CancellationToken cancellationToken, Action<RlmEvent>? events = null, ConversationState? conversation = null, RlmOptions? options = null, AnswerFormat? answerFormat = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        options ??= _options;
        var view = new ContextView(text);
        await using var run = new QueryRun(RootClient, WorkerClient, options, events, answerFormat);
        using var step = run.Observer.Query(view, text.Documents.Count, options.MaxDepth);
        var session = new RlmSession(run, depth: 0, view, query, step.Node, conversation);
        try
        {
            var outcome = await session.RunAsync(cancellationToken).ConfigureAwait(false);
            var result = run.CreateResult(outcome, step.Node, citations: run.CheckCitations(outcome, text));
            run.Observer.QueryCompleted(step, result);
            return result;
        }
        catch (Exception e)
        {
            if (e is RlmModelException model)
            {
                // The root model failed for good: the caller gets the typed exception with what the run had so far.
                model.PartialResult = run.CreateResult(new SessionOutcome(string.Empty, RlmStopReason.ModelFailure, session.Iterations), step.Node, $"The run stopped without an answer: {model.Message.TrimEnd('.')}.");
            }
            else
            {
                // Canceled or a bug: the exception stays as it is; the rlm command still reports what the run had.
                var reason = e is OperationCanceledException ? RlmStopReason.Canceled : RlmStopReason.Error;
                PartialResults.Attach(e, run.CreateResult(new SessionOutcome(string.Empty, reason, session.Iterations), step.Node,
                    reason == RlmStopReason.Error ? $"The run stopped without an answer: an unexpected error: {e.GetType().Name}: {TextLimits.OneLine(run.Observer.Redactor.Redact(e.Message), 300)}" : null));
            }

            run.Observer.QueryFailed(step, e);
            throw;
        }
    }
}

/// <summary>What <see cref="RecursiveLanguageModel.AsAIFunction(RlmCorpus, RlmCorpusToolOptions)"/> returns to the calling agent.</summary>
/// <param name="Answer">The inner run's answer.</param>
/// <param name="IsFinal">Whether the inner root model ended the run with <c>final</c>/<c>final_var</c>.</param>
/// <param name="StopReason">Why the inner run stopped (its name in <see cref="RlmStopReasonText"/>, for example <c>final</c>).</param>
/// <param name="InputTokens">Input tokens of every model call of the inner run.</param>
/// <param name="OutputTokens">Output tokens of every model call of the inner run.</param>
/// <param name="ModelCalls">Model requests of the inner run, retries included.</param>
/// <param name="SubCalls">Sub-calls of the inner run.</param>
/// <param name="FailedSubCalls">Sub-calls of the inner run that failed.</param>
public sealed record RlmToolAnswer(string Answer, bool IsFinal, string StopReason, long InputTokens, long OutputTokens, int ModelCalls, int SubCalls, int FailedSubCalls)
{
    /// <summary>Gets the answer's citations as the host checked them (<see cref="RlmResult.Citations"/>); empty when none.</summary>
    public IReadOnlyList<RlmCitation> Citations { get; init; } = [];
}
