using System.Diagnostics;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Microsoft.Extensions.AI;
using Polly;
using Polly.Timeout;
using Rlm.Tools.Context;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Runs every model request of a run (root iterations, worker iterations, leaf completions) through one
/// <see cref="Channel{T}"/> read by <see cref="RlmOptions.MaxConcurrency"/> model workers.
/// </summary>
/// <remarks>
/// A worker slot is held only while a request is in flight, never while a session waits for its children's answers
/// or a retry waits out its back-off, so no combination of depth and concurrency can deadlock: a parent waiting on
/// sub-calls holds no slot. Each attempt is bounded by <see cref="RlmOptions.ModelRequestTimeout"/> (Polly's timeout
/// strategy; the attempt is abandoned even if the client ignores its token) and, when a host shares one, holds a permit of
/// <see cref="RlmOptions.ConcurrencyLimiter"/> while in flight.
/// </remarks>
internal sealed class ModelDispatcher : IAsyncDisposable
{
    private readonly Channel<ModelRequest> _requests = Channel.CreateUnbounded<ModelRequest>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly Task[] _workers;
    private readonly ResiliencePipeline _timeout;
    private readonly RateLimiter? _limiter;

    // Runs on the worker right before a request goes out (the run's budget check): a request queued behind busy workers
    // is checked when it is dispatched, not when it was queued, so a budget is exceeded by at most the requests in flight.
    private readonly Action? _beforeDispatch;
    private int _inFlight;
    private int _peak;

    public ModelDispatcher(int workers, TimeSpan requestTimeout, RateLimiter? limiter = null, TimeProvider? timeProvider = null, Action? beforeDispatch = null)
    {
        _beforeDispatch = beforeDispatch;
        _timeout = new ResiliencePipelineBuilder { TimeProvider = timeProvider ?? TimeProvider.System }.AddTimeout(requestTimeout).Build();
        _limiter = limiter;
        _workers = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            _workers[i] = Task.Run(WorkAsync);
        }
    }

    /// <summary>Gets the most requests that were in flight at once.</summary>
    public int PeakInFlight => Volatile.Read(ref _peak);

    /// <summary>Queues a request and waits for its response. Cancellation removes it from the queue or cancels it in flight.</summary>
    /// <param name="client">The model.</param>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The request options.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <param name="onResponse">Runs on the worker with the response before its slot is freed (the run records usage there, so a budget check of the next request sees it).</param>
    /// <param name="stream">When given, the reply is streamed through it (the slot is held until the stream ends); otherwise one <see cref="IChatClient.GetResponseAsync"/> call.</param>
    public Task<ChatResponse> SendAsync(IChatClient client, IReadOnlyList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken, Action<ChatResponse>? onResponse = null, StreamedReply? stream = null)
    {
        var request = new ModelRequest(client, messages, options, cancellationToken) { OnResponse = onResponse, Stream = stream };
        if (!_requests.Writer.TryWrite(request))
        {
            return Task.FromException<ChatResponse>(new ObjectDisposedException(nameof(ModelDispatcher)));
        }

        // WaitAsync: a request still queued behind busy workers is abandoned at once when the caller cancels.
        return request.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task WorkAsync()
    {
        // The loop ends when DisposeAsync completes the writer: no cancellation, so a run ends without exceptions.
        await foreach (var request in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (request.CancellationToken.IsCancellationRequested)
            {
                request.Completion.TrySetCanceled(request.CancellationToken);
                continue;
            }

            RateLimitLease? lease = null;
            bool counted = false;
            var previous = Activity.Current;
            Activity.Current = request.Activity; // spans of the chat client (OpenTelemetryChatClient, HTTP) nest under the caller's span
            try
            {
                if (_limiter is not null)
                {
                    lease = await _limiter.AcquireAsync(1, request.CancellationToken).ConfigureAwait(false);
                    if (!lease.IsAcquired)
                    {
                        throw new RateLimiterRejectedException("the shared concurrency limiter refused a permit (its queue is full)");
                    }
                }

                _beforeDispatch?.Invoke();
                counted = true;
                TextLimits.InterlockedMax(ref _peak, Interlocked.Increment(ref _inFlight));
                var response = await _timeout.ExecuteAsync(
                    static async (request, token) =>
                        // WaitAsync: a client that ignores its token is abandoned when the timeout fires, not waited for.
                        await (request.Stream is { } stream
                            ? stream.ReadAsync(request.Client, request.Messages, request.Options, token)
                            : request.Client.GetResponseAsync(request.Messages, request.Options, token)).WaitAsync(token).ConfigureAwait(false),
                    request,
                    request.CancellationToken).ConfigureAwait(false);
                request.OnResponse?.Invoke(response);
                request.Completion.TrySetResult(response);
            }
            catch (OperationCanceledException e) when (request.CancellationToken.IsCancellationRequested)
            {
                request.Completion.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                request.Completion.TrySetException(e);
            }
            finally
            {
                Activity.Current = previous;
                if (counted)
                {
                    Interlocked.Decrement(ref _inFlight);
                }

                lease?.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Requests still queued belong to abandoned (canceled) callers: the workers drain them as canceled, then stop.
        _requests.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
    }

    private sealed class ModelRequest(IChatClient client, IReadOnlyList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        public IChatClient Client { get; } = client;

        public IReadOnlyList<ChatMessage> Messages { get; } = messages;

        public ChatOptions Options { get; } = options;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<ChatResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Activity? Activity { get; } = Activity.Current;

        public Action<ChatResponse>? OnResponse { get; init; }

        public StreamedReply? Stream { get; init; }
    }
}
