using Microsoft.Extensions.AI;
using Polly;
using Polly.Retry;
using Rlm.Tools.Context;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Every model request of a run goes through here: the budget check, the <see cref="ModelDispatcher"/> (channel, shared
/// limiter, per-attempt timeout), the retry policy (Polly: exponential back-off with jitter, <c>Retry-After</c> honoured),
/// the mapping of failures to <see cref="RlmModelException"/>, the streaming commit rule, usage and the step's completion.
/// </summary>
internal sealed class ModelRequestQueue : IAsyncDisposable
{
    private static readonly ResiliencePropertyKey<int> s_depthKey = new("rlm.depth");
    private static readonly ResiliencePropertyKey<string> s_roleKey = new("rlm.role");

    private readonly IChatClient _rootClient;
    private readonly IChatClient _workerClient;
    private readonly RlmOptions _options;
    private readonly RunObserver _observer;
    private readonly RunBudget _budget;
    private readonly ModelDispatcher _dispatcher;
    private readonly ResiliencePipeline _retry;
    private int _streamingRefused;

    public ModelRequestQueue(IChatClient rootClient, IChatClient workerClient, RlmOptions options, RunObserver observer, RunBudget budget)
    {
        _rootClient = rootClient;
        _workerClient = workerClient;
        _options = options;
        _observer = observer;
        _budget = budget;
        _dispatcher = new ModelDispatcher(options.MaxConcurrency, options.ModelRequestTimeout, options.ConcurrencyLimiter, options.TimeProvider,
            budget.HasLimits ? budget.Check : null);
        _retry = CreateRetryPipeline();
    }

    /// <summary>Gets the most requests that were in flight at once.</summary>
    public int PeakInFlight => _dispatcher.PeakInFlight;

    /// <summary>Sends one request and completes <paramref name="step"/> with its outcome.</summary>
    /// <param name="worker">Whether the worker model (sub-calls) or the root model is asked.</param>
    /// <param name="named">The named worker (<see cref="RlmOptions.Workers"/>) a worker request goes to; <see langword="null"/> for the default worker.</param>
    /// <param name="messages">The conversation.</param>
    /// <param name="chatOptions">Options; tools, if any, are declarations only.</param>
    /// <param name="step">The observed step of this request.</param>
    /// <param name="requireText">Whether a reply without text is unusable (a request that allows no tools).</param>
    /// <param name="cancellationToken">The caller's token; its cancellation is never retried or wrapped.</param>
    /// <exception cref="RlmModelException">The request failed for good.</exception>
    /// <exception cref="RlmBudgetExceededException">A budget is spent: the request was not sent.</exception>
    public async Task<ChatResponse> SendAsync(bool worker, RlmWorker? named, IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions, RunStep step, bool requireText, CancellationToken cancellationToken) =>
        (await SendCoreAsync(worker, worker ? named : null, messages, chatOptions, step, requireText, onCall: null, cancellationToken).ConfigureAwait(false)).Response;

    /// <summary>
    /// Sends one root request streamed (<see cref="RlmOptions.StreamRootResponses"/>), handing each function call to
    /// <paramref name="onCall"/> as soon as it is complete in the stream; otherwise as <see cref="SendAsync"/>.
    /// </summary>
    /// <remarks>
    /// The commit rule: an attempt that fails before any call was handed out is retried as usual. Once a call was handed
    /// out the reply is committed: a stream that then fails or times out is not retried (that would run its tools twice,
    /// or run tools of a reply the model never finished); the reply is cut after its last complete call and returned with
    /// <see cref="ModelReply.CutShort"/> set. Caller cancellation is never absorbed.
    /// </remarks>
    public Task<ModelReply> SendStreamingAsync(IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions, RunStep step, Action<FunctionCallContent> onCall, CancellationToken cancellationToken) =>
        SendCoreAsync(worker: false, named: null, messages, chatOptions, step, requireText: false, onCall, cancellationToken);

    private async Task<ModelReply> SendCoreAsync(bool worker, RlmWorker? named, IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions, RunStep step, bool requireText, Action<FunctionCallContent>? onCall, CancellationToken cancellationToken)
    {
        var client = named?.Client ?? (worker ? _workerClient : _rootClient);
        string role = worker ? "worker" : "root";

        // Usage is kept per model: a reply without a model id is booked under the requested id, else the worker's name.
        string unnamed = named?.Name ?? role;
        int attempts = 0;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(s_depthKey, step.Node.Depth);
        context.Properties.Set(s_roleKey, role);
        try
        {
            var reply = await _retry.ExecuteAsync(
                async (context, _) =>
                {
                    _budget.Check();
                    Interlocked.Increment(ref attempts);
                    _observer.Statistics.RecordModelCall();
                    var stream = onCall is not null && Volatile.Read(ref _streamingRefused) == 0 ? new StreamedReply(onCall) : null;
                    try
                    {
                        var response = await _dispatcher.SendAsync(client, messages, chatOptions, context.CancellationToken,
                            r => _budget.AddUsage(r.ModelId ?? chatOptions.ModelId ?? unnamed, r.Usage), stream).ConfigureAwait(false);
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
                        _budget.AddUsage(soFar.ModelId ?? chatOptions.ModelId ?? unnamed, soFar.Usage);
                        string cause = $"{Describe(ModelFailure.Classify(e))}: {TextLimits.OneLine(_observer.Redactor.Redact(e.Message), 200)}";
                        _observer.ReplyCut(step.Node.Depth, role, started, cause);
                        return new ModelReply(soFar, cause);
                    }
                },
                context,
                state: 0).ConfigureAwait(false);
            var response = reply.Response;
            string model = response.ModelId ?? chatOptions.ModelId ?? unnamed;
            string summary = reply.CutShort is null ? Summarize(response) : $"{Summarize(response)} (cut: {reply.CutShort})";
            step.CompleteModelCall(summary, role, model, response.ModelId ?? chatOptions.ModelId, response.Usage,
                response.Usage is { } used ? _options.Prices.Cost(model, used) : null,
                response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Count());
            return reply;
        }
        catch (RlmBudgetExceededException e)
        {
            step.Complete(e.Message, isError: true);
            throw;
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            var failure = ModelFailure.Classify(e);
            // An unexpected exception is named by its type: "Object reference not set to an instance of an object" alone says little.
            string cause = TextLimits.OneLine(_observer.Redactor.Redact(failure.Kind == RlmModelFailureKind.Unknown ? $"{e.GetType().Name}: {e.Message}" : e.Message), 300);
            string message = $"the {role} model request failed after {attempts} attempt{(attempts == 1 ? "" : "s")}: {Describe(failure)}: {cause}";
            _observer.ModelFailed(step, message);
            var inner = _observer.Redactor.ContainsSecret(e.ToString()) ? new Exception($"{e.GetType().FullName}: {cause} (redacted)") : e;
            throw new RlmModelException(message, failure.Kind, failure.StatusCode, attempts, inner);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static string Describe(ModelFailure failure) => RlmModelRetry.DescribeFailure(failure.Kind, failure.StatusCode);

    /// <summary>A reply in one line for its trace node: its calls, or the start of its text.</summary>
    internal static string Summarize(ChatResponse response)
    {
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Select(c => c.Name).ToList();
        return calls.Count > 0
            ? $"{calls.Count} call{(calls.Count == 1 ? "" : "s")}: {string.Join(", ", calls)}"
            : TextLimits.OneLine(response.Text, 120);
    }

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
        var builder = new ResiliencePipelineBuilder { TimeProvider = _options.TimeProvider };
        if (_options.MaxModelRetries <= 0)
        {
            return builder.Build();
        }

        var maxDelay = _options.ModelRetryMaxDelay;
        return builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = _options.MaxModelRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = _options.ModelRetryBaseDelay,
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
                if (args.Outcome.Exception is { } e)
                {
                    var failure = ModelFailure.Classify(e);
                    _observer.ModelRetry(args.Context.Properties.GetValue(s_depthKey, 0), args.Context.Properties.GetValue(s_roleKey, "model"), args.AttemptNumber + 1,
                        _options.MaxModelRetries, args.RetryDelay, failure.Kind, failure.StatusCode, Describe(failure), e.Message);
                }

                return default;
            },
        }).Build();
    }

    public ValueTask DisposeAsync() => _dispatcher.DisposeAsync();
}

/// <summary>A model reply; <see cref="CutShort"/> says why a streamed reply stopped early (after calls had started), else <see langword="null"/>.</summary>
internal sealed record ModelReply(ChatResponse Response, string? CutShort);
