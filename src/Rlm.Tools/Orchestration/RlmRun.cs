using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Polly;
using Polly.Retry;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// The state of one <see cref="RecursiveLanguageModel.QueryAsync(string, string, CancellationToken)"/> call, shared by all
/// of its sessions: options, clients, the dispatcher, the sub-call budget, usage and statistics.
/// </summary>
internal sealed class RlmRun : IAsyncDisposable
{
    private readonly long _startTimestamp;
    private readonly ConcurrentDictionary<string, int> _toolCalls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UsageDetails> _usageByModel = new(StringComparer.Ordinal);
    private readonly UsageDetails _usage = new();
    private int _subCallsReserved;
    private int _subCallsStarted;
    private int _failedSubCalls;
    private int _memoizedSubCalls;
    private int _compactions;
    private readonly ConcurrentDictionary<SubCallKey, Lazy<Task<ToolResult>>> _subCallMemo = new();
    private int _iterations;
    private int _modelCalls;
    private int _modelRetries;
    private int _failedModelCalls;
    private int _maxDepthReached;
    private long _totalTokens;
    private readonly Action<RlmEvent>? _events;
    private readonly IProgress<RlmEvent>? _progress;
    private object? _budgetStop;
    private int _softWarned;
    private int _streamingRefused;
    private readonly ResiliencePipeline _retry;
    private static readonly ResiliencePropertyKey<int> s_depthKey = new("rlm.depth");
    private static readonly ResiliencePropertyKey<string> s_roleKey = new("rlm.role");

    public RlmRun(IChatClient rootClient, IChatClient workerClient, RlmOptions options, Action<RlmEvent>? events = null)
    {
        _events = events;
        _progress = options.Progress;
        RootClient = rootClient;
        WorkerClient = workerClient;
        Options = options;
        Redactor = new SecretRedactor(options.RedactedValues);
        Logger = options.LoggerFactory?.CreateLogger(RlmLog.Category) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        Dispatcher = new SubCallDispatcher(options.MaxConcurrency, options.ModelRequestTimeout, options.ConcurrencyLimiter, options.TimeProvider,
            options.MaxTotalTokens is null && options.MaxCostUsd is null && options.MaxWallTime is null ? null : CheckBudget);
        _retry = CreateRetryPipeline();
        _startTimestamp = options.TimeProvider.GetTimestamp();
    }

    public IChatClient RootClient { get; }

    public IChatClient WorkerClient { get; }

    public RlmOptions Options { get; }

    public SubCallDispatcher Dispatcher { get; }

    /// <summary>Gets the engine's logger (<see cref="RlmOptions.LoggerFactory"/>, or a null logger).</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; }

    /// <summary>Gets the redactor every provider text passes through before it leaves the engine.</summary>
    public SecretRedactor Redactor { get; }

    public TimeSpan Elapsed => Options.TimeProvider.GetElapsedTime(_startTimestamp);

    /// <summary>Gets the sub-calls still available to reserve.</summary>
    public int SubCallsLeft => Math.Max(0, Options.MaxSubCalls - Volatile.Read(ref _subCallsReserved));

    /// <summary>Reserves one sub-call before dispatch, so parallel calls can never exceed <see cref="RlmOptions.MaxSubCalls"/>.</summary>
    public bool TryReserveSubCall()
    {
        while (true)
        {
            int current = Volatile.Read(ref _subCallsReserved);
            if (current >= Options.MaxSubCalls)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _subCallsReserved, current + 1, current) == current)
            {
                Interlocked.Increment(ref _subCallsStarted);
                RlmTelemetry.SubCalls.Add(1);
                return true;
            }
        }
    }

    public void RecordFailedSubCall() => Interlocked.Increment(ref _failedSubCalls);

    public void RecordCompaction() => Interlocked.Increment(ref _compactions);

    /// <summary>
    /// Runs the sub-call <paramref name="key"/> once per run (<see cref="RlmOptions.MemoizeSubCalls"/>): the first caller
    /// runs <paramref name="run"/>; concurrent callers with the same key wait for it (single flight) and later ones reuse
    /// its answer, each counted as memoized and told through <paramref name="onMemoized"/>. An error result or an exception
    /// is not remembered: the next identical call runs again.
    /// </summary>
    public async Task<ToolResult> MemoizedSubCallAsync(SubCallKey key, Func<Task<ToolResult>> run, Action<Task<ToolResult>> onMemoized)
    {
        var mine = new Lazy<Task<ToolResult>>(run, LazyThreadSafetyMode.ExecutionAndPublication);
        var entry = _subCallMemo.GetOrAdd(key, mine);
        if (!ReferenceEquals(entry, mine))
        {
            Interlocked.Increment(ref _memoizedSubCalls);
            onMemoized(entry.Value);
            return await entry.Value.ConfigureAwait(false);
        }

        try
        {
            var result = await entry.Value.ConfigureAwait(false);
            if (result.IsError)
            {
                _subCallMemo.TryRemove(new KeyValuePair<SubCallKey, Lazy<Task<ToolResult>>>(key, entry));
            }

            return result;
        }
        catch
        {
            _subCallMemo.TryRemove(new KeyValuePair<SubCallKey, Lazy<Task<ToolResult>>>(key, entry));
            throw;
        }
    }

    public void RecordIteration() => Interlocked.Increment(ref _iterations);

    public void RecordToolCall(string name)
    {
        _toolCalls.AddOrUpdate(name, 1, static (_, n) => n + 1);
        RlmTelemetry.ToolCalls.Add(1, new KeyValuePair<string, object?>("gen_ai.tool.name", name));
    }

    public void RecordDepth(int depth) => TextLimits.InterlockedMax(ref _maxDepthReached, depth);

    /// <summary>Gets whether someone listens to typed events (<see cref="RecursiveLanguageModel.QueryStreamingAsync(string, RlmCorpus, CancellationToken)"/> or <see cref="RlmOptions.Progress"/>).</summary>
    public bool HasEventListener => _events is not null || _progress is not null;

    /// <summary>
    /// Sends a typed event to the stream and to <see cref="RlmOptions.Progress"/>, its outside text redacted first. The one
    /// path every event takes (the CLI's live progress, MCP progress notifications and the middleware's streaming all read it).
    /// Called synchronously from many threads (parallel sub-calls): the receivers must be thread-safe.
    /// </summary>
    public void Emit(RlmEvent e)
    {
        if (!HasEventListener)
        {
            return;
        }

        e = e.Redact(Redactor);
        _events?.Invoke(e);
        _progress?.Report(e);
    }

    /// <summary>
    /// Sends one model request through the dispatcher under the run's retry policy (Polly: exponential back-off with
    /// jitter, <c>Retry-After</c> honoured), recording every attempt, usage and the trace node.
    /// </summary>
    /// <param name="worker">Whether the worker model (sub-calls) or the root model is asked.</param>
    /// <param name="messages">The conversation.</param>
    /// <param name="chatOptions">Options; tools, if any, are declarations only.</param>
    /// <param name="node">The trace node of this request.</param>
    /// <param name="requireText">Whether a reply without text is unusable (a request that allows no tools).</param>
    /// <param name="cancellationToken">The caller's token; its cancellation is never retried or wrapped.</param>
    /// <exception cref="RlmModelException">The request failed for good.</exception>
    public async Task<ChatResponse> CallModelAsync(bool worker, IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions, RlmTraceNode node, bool requireText, CancellationToken cancellationToken) =>
        (await CallModelCoreAsync(worker, messages, chatOptions, node, requireText, onCall: null, cancellationToken).ConfigureAwait(false)).Response;

    /// <summary>
    /// Sends one root request streamed (<see cref="RlmOptions.StreamRootResponses"/>), handing each function call to
    /// <paramref name="onCall"/> as soon as it is complete in the stream; otherwise as <see cref="CallModelAsync"/>.
    /// </summary>
    /// <remarks>
    /// The retry rule: an attempt that fails before any call was handed out is retried as usual. Once a call was handed
    /// out the reply is committed: a stream that then fails or times out is not retried (that would run its tools twice, or
    /// run tools of a reply the model never finished); the reply is cut after its last complete call and returned with
    /// <see cref="ModelReply.CutShort"/> set. Caller cancellation is never absorbed.
    /// </remarks>
    /// <exception cref="RlmModelException">The request failed for good before any call was handed out.</exception>
    public Task<ModelReply> CallRootStreamingAsync(IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions, RlmTraceNode node, Action<FunctionCallContent> onCall, CancellationToken cancellationToken) =>
        CallModelCoreAsync(worker: false, messages, chatOptions, node, requireText: false, onCall, cancellationToken);

    private async Task<ModelReply> CallModelCoreAsync(bool worker, IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions, RlmTraceNode node, bool requireText, Action<FunctionCallContent>? onCall, CancellationToken cancellationToken)
    {
        var client = worker ? WorkerClient : RootClient;
        string role = worker ? "worker" : "root";
        int attempts = 0;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(s_depthKey, node.Depth);
        context.Properties.Set(s_roleKey, role);
        try
        {
            var reply = await _retry.ExecuteAsync(
                async (context, _) =>
                {
                    CheckBudget();
                    Interlocked.Increment(ref attempts);
                    Interlocked.Increment(ref _modelCalls);
                    var stream = onCall is not null && Volatile.Read(ref _streamingRefused) == 0 ? new StreamedReply(onCall) : null;
                    try
                    {
                        var response = await Dispatcher.SendAsync(client, messages, chatOptions, context.CancellationToken,
                            r => AddUsage(r.ModelId ?? chatOptions.ModelId ?? role, r.Usage), stream).ConfigureAwait(false);
                        if (stream is { FellBack: true })
                        {
                            Volatile.Write(ref _streamingRefused, 1); // the client does not stream: ask it the plain way from now on
                        }

                        EnsureUsable(response, requireText);
                        return new ModelReply(response, null);
                    }
                    catch (Exception e) when (stream is not null)
                    {
                        if (stream.FellBack)
                        {
                            Volatile.Write(ref _streamingRefused, 1);
                        }

                        // Whatever an abandoned stream still yields is dropped from here on: no call of this attempt starts later.
                        var (soFar, started) = stream.Close();
                        if (started == 0 || e is RlmBudgetExceededException || context.CancellationToken.IsCancellationRequested)
                        {
                            throw;
                        }

                        // Calls of this reply are running: the reply is committed, cut after its last complete call.
                        AddUsage(soFar.ModelId ?? chatOptions.ModelId ?? role, soFar.Usage);
                        string cause = $"{Describe(ModelFailure.Classify(e))}: {TextLimits.OneLine(Redactor.Redact(e.Message), 200)}";
                        RlmLog.ReplyCut(Logger, role, started, cause);
                        Emit(new RlmReplyCut(Elapsed, node.Depth, role, started, cause));
                        return new ModelReply(soFar, cause);
                    }
                },
                context,
                state: 0).ConfigureAwait(false);
            var response = reply.Response;
            node.Complete(Elapsed, reply.CutShort is null ? Summarize(response) : $"{Summarize(response)} (cut: {reply.CutShort})");
            string model = response.ModelId ?? chatOptions.ModelId ?? role;
            node.SetModelUsage(model, response.Usage, response.Usage is { } used ? Options.Prices.Cost(model, used) : null);
            if (HasEventListener)
            {
                Emit(new RlmModelResponded(Elapsed, node.Depth, role, response.ModelId ?? chatOptions.ModelId, response.Usage,
                    response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Count()));
            }

            return reply;
        }
        catch (Exception e) when (e is not RlmBudgetExceededException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Interlocked.Increment(ref _failedModelCalls);
            var failure = ModelFailure.Classify(e);
            string cause = TextLimits.OneLine(Redactor.Redact(e.Message), 300);
            string message = $"the {role} model request failed after {attempts} attempt{(attempts == 1 ? "" : "s")}: {Describe(failure)}: {cause}";
            node.Complete(Elapsed, message, isError: true);
            RlmLog.ModelFailed(Logger, message);
            var inner = Redactor.ContainsSecret(e.ToString()) ? new Exception($"{e.GetType().FullName}: {cause} (redacted)") : e;
            throw new RlmModelException(message, failure.Kind, failure.StatusCode, attempts, inner);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static string Describe(ModelFailure failure) => RlmModelRetry.DescribeFailure(failure.Kind, failure.StatusCode);

    /// <summary>Rejects a response the session cannot use, so that it is retried like a transient failure.</summary>
    private static void EnsureUsable(ChatResponse response, bool requireText)
    {
        bool hasCalls = false;
        bool hasText = false;
        foreach (var message in response.Messages)
        {
            foreach (var content in message.Contents)
            {
                hasCalls |= content is FunctionCallContent;
                hasText |= content is TextContent { Text: { } text } && !string.IsNullOrWhiteSpace(text);
            }
        }

        if (requireText ? !hasText : !hasText && !hasCalls)
        {
            throw new UnusableResponseException(requireText
                ? "the model replied without text"
                : "the model replied with neither text nor a function call");
        }
    }

    private ResiliencePipeline CreateRetryPipeline()
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = Options.TimeProvider };
        if (Options.MaxModelRetries > 0)
        {
            var maxDelay = Options.ModelRetryMaxDelay;
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Options.MaxModelRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Options.ModelRetryBaseDelay,
                MaxDelay = maxDelay,
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e and not RlmBudgetExceededException
                    && !(e is OperationCanceledException && args.Context.CancellationToken.IsCancellationRequested)
                    && ModelFailure.Classify(e).IsTransient),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Outcome.Exception is { } e && ModelFailure.Classify(e).RetryAfter is { } after
                        ? (after < maxDelay ? after : maxDelay)
                        : null),
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _modelRetries);
                    if (args.Outcome.Exception is { } failed)
                    {
                        RlmLog.ModelRetry(Logger, args.Context.Properties.GetValue(s_roleKey, "model"), Describe(ModelFailure.Classify(failed)), args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds);
                    }

                    if (HasEventListener && args.Outcome.Exception is { } e)
                    {
                        var failure = ModelFailure.Classify(e);
                        Emit(new RlmModelRetry(Elapsed, args.Context.Properties.GetValue(s_depthKey, 0), args.Context.Properties.GetValue(s_roleKey, "model"),
                            args.AttemptNumber + 1, Options.MaxModelRetries, args.RetryDelay, failure.Kind, failure.StatusCode, TextLimits.OneLine(Redactor.Redact(e.Message), 160)));
                    }

                    return default;
                },
            });
        }

        return builder.Build();
    }

    /// <summary>Throws <see cref="RlmBudgetExceededException"/> when a budget of <see cref="RlmOptions"/> is spent: no request may be sent.</summary>
    public void CheckBudget()
    {
        if (BudgetReached(soft: false) is { } reason)
        {
            throw new RlmBudgetExceededException(reason, BudgetMessage(reason));
        }
    }

    /// <summary>
    /// The budget that is spent (<paramref name="soft"/>: 90% of a token or cost budget, so a session stops its tool
    /// iterations with room for a last answer), or <see langword="null"/>. A hard stop is remembered: once spent, a budget
    /// stays spent.
    /// </summary>
    public RlmStopReason? BudgetReached(bool soft)
    {
        if (Volatile.Read(ref _budgetStop) is { } stopped)
        {
            return (RlmStopReason)stopped;
        }

        var options = Options;
        decimal factor = soft ? 0.9m : 1m;
        RlmStopReason? reason = null;
        if (options.MaxWallTime is { } wall && Elapsed >= wall)
        {
            reason = RlmStopReason.TimeBudget;
        }
        else if (options.MaxTotalTokens is { } tokens && Interlocked.Read(ref _totalTokens) >= tokens * factor)
        {
            reason = RlmStopReason.TokenBudget;
        }
        else if (options.MaxCostUsd is { } cost && CurrentCost() >= cost * factor)
        {
            reason = RlmStopReason.CostBudget;
        }

        if (reason is { } r && !soft)
        {
            Interlocked.CompareExchange(ref _budgetStop, (int)r, null);
            Emit(new RlmBudgetWarning(Elapsed, 0, $"{BudgetMessage(r)} No further model requests are sent."));
        }
        else if (reason is not null && soft && Interlocked.Exchange(ref _softWarned, 1) == 0)
        {
            Emit(new RlmBudgetWarning(Elapsed, 0, "90% of a budget is spent: the run is finishing."));
        }

        return reason;
    }

    /// <summary>Whether a last call of about <paramref name="estimatedInputTokens"/> fits in what is left of the token and cost budgets.</summary>
    public bool FitsLastCall(bool worker, int estimatedInputTokens)
    {
        var options = Options;
        if (options.MaxTotalTokens is { } tokens && Interlocked.Read(ref _totalTokens) + estimatedInputTokens > tokens)
        {
            return false;
        }

        if (options.MaxCostUsd is { } cost)
        {
            string model = (worker ? options.WorkerModelId : options.RootModelId) ?? "";
            decimal price = options.Prices.Find(model)?.InputPerMillion ?? 0;
            return CurrentCost() + (estimatedInputTokens * price / 1_000_000m) <= cost;
        }

        return true;
    }

    private string BudgetMessage(RlmStopReason reason) => reason switch
    {
        RlmStopReason.TimeBudget => $"The run's time budget of {Options.MaxWallTime!.Value.TotalSeconds:0.###} s is spent.",
        RlmStopReason.TokenBudget => $"The run's token budget of {Options.MaxTotalTokens:N0} tokens is spent ({Interlocked.Read(ref _totalTokens):N0} used).",
        RlmStopReason.CostBudget => $"The run's cost budget of ${Options.MaxCostUsd:0.####} is spent (${CurrentCost():0.####} used).",
        _ => "A budget is spent.",
    };

    /// <summary>The cost so far of the models that have a price.</summary>
    private decimal CurrentCost()
    {
        lock (_usageByModel)
        {
            decimal total = 0;
            foreach (var (model, usage) in _usageByModel)
            {
                total += Options.Prices.Cost(model, usage) ?? 0;
            }

            return total;
        }
    }

    private void AddUsage(string model, UsageDetails? usage)
    {
        if (usage is null)
        {
            return;
        }

        Interlocked.Add(ref _totalTokens, (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0));

        lock (_usageByModel)
        {
            _usage.Add(usage);
            if (!_usageByModel.TryGetValue(model, out var perModel))
            {
                _usageByModel[model] = perModel = new UsageDetails();
            }

            perModel.Add(usage);
        }
    }

    public RlmResult CreateResult(SessionOutcome outcome, RlmTraceNode trajectory, int rootIterations)
    {
        Dictionary<string, UsageDetails> byModel;
        UsageDetails usage;
        lock (_usageByModel)
        {
            byModel = new Dictionary<string, UsageDetails>(_usageByModel, StringComparer.Ordinal);
            usage = new UsageDetails();
            usage.Add(_usage);
        }

        return new RlmResult
        {
            CostUsd = Options.Prices.Cost(byModel),
            Answer = outcome.Answer,
            StopReason = outcome.StopReason,
            Usage = usage,
            UsageByModel = byModel,
            Trajectory = trajectory,
            Statistics = new RlmStatistics
            {
                Iterations = Volatile.Read(ref _iterations),
                RootIterations = rootIterations,
                ModelCalls = Volatile.Read(ref _modelCalls),
                ModelRetries = Volatile.Read(ref _modelRetries),
                FailedModelCalls = Volatile.Read(ref _failedModelCalls),
                SubCalls = Volatile.Read(ref _subCallsStarted),
                FailedSubCalls = Volatile.Read(ref _failedSubCalls),
                MemoizedSubCalls = Volatile.Read(ref _memoizedSubCalls),
                Compactions = Volatile.Read(ref _compactions),
                MaxDepthReached = Volatile.Read(ref _maxDepthReached),
                ToolCalls = new SortedDictionary<string, int>(_toolCalls, StringComparer.Ordinal),
                PeakConcurrency = Dispatcher.PeakInFlight,
                WallTime = Elapsed,
            },
        };
    }

    internal static string Summarize(ChatResponse response)
    {
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Select(c => c.Name).ToList();
        string text = response.Text;
        if (calls.Count > 0)
        {
            return $"{calls.Count} call{(calls.Count == 1 ? "" : "s")}: {string.Join(", ", calls)}";
        }

        return TextLimits.OneLine(text, 120);
    }

    public ValueTask DisposeAsync() => Dispatcher.DisposeAsync();
}

/// <summary>What makes two sub-calls of a run identical: worker model, depth, query text and slice ([Start, End) of the context; -1 for a prompt without a slice).</summary>
/// <remarks>The depth is part of the key so a session can never wait on the sub-call that is running it.</remarks>
internal readonly record struct SubCallKey(string? Model, int Depth, string Query, int Start, int End);

/// <summary>A model reply; <see cref="CutShort"/> says why a streamed reply stopped early (after calls had started), else <see langword="null"/>.</summary>
internal sealed record ModelReply(ChatResponse Response, string? CutShort);

/// <summary>How a session ended: its answer and why.</summary>
internal sealed record SessionOutcome(string Answer, RlmStopReason StopReason, int Iterations);

/// <summary>A budget of <see cref="RlmOptions"/> is spent: no model request may be sent. Handled inside the engine.</summary>
internal sealed class RlmBudgetExceededException(RlmStopReason reason, string message) : Exception(message)
{
    public RlmStopReason Reason { get; } = reason;
}
