using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Runs every model request of a run (root iterations, worker iterations, leaf completions) through one
/// <see cref="Channel{T}"/> read by <see cref="RlmOptions.MaxConcurrency"/> model workers.
/// </summary>
/// <remarks>
/// A worker slot is held only while a request is in flight, never while a session waits for its children's answers,
/// so no combination of depth and concurrency can deadlock: a parent waiting on sub-calls holds no slot.
/// </remarks>
internal sealed class SubCallDispatcher : IAsyncDisposable
{
    private readonly Channel<ModelRequest> _requests = Channel.CreateUnbounded<ModelRequest>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly Task[] _workers;
    private int _inFlight;
    private int _peak;

    public SubCallDispatcher(int workers)
    {
        _workers = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            _workers[i] = Task.Run(WorkAsync);
        }
    }

    /// <summary>Gets the most requests that were in flight at once.</summary>
    public int PeakInFlight => Volatile.Read(ref _peak);

    /// <summary>Queues a request and waits for its response. Cancellation removes it from the queue or cancels it in flight.</summary>
    public Task<ChatResponse> SendAsync(IChatClient client, IReadOnlyList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        var request = new ModelRequest(client, messages, options, cancellationToken);
        if (!_requests.Writer.TryWrite(request))
        {
            return Task.FromException<ChatResponse>(new ObjectDisposedException(nameof(SubCallDispatcher)));
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

            int now = Interlocked.Increment(ref _inFlight);
            TextLimits.InterlockedMax(ref _peak, now);
            var previous = Activity.Current;
            Activity.Current = request.Activity; // spans of the chat client nest under the request's chat span
            try
            {
                var response = await request.Client.GetResponseAsync(request.Messages, request.Options, request.CancellationToken).ConfigureAwait(false);
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
                Interlocked.Decrement(ref _inFlight);
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
    }
}
