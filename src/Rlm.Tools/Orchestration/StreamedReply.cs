using Microsoft.Extensions.AI;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// One streamed attempt of a root reply (<see cref="RlmOptions.StreamRootResponses"/>): reads the client's
/// <see cref="IChatClient.GetStreamingResponseAsync"/> updates, hands every <see cref="FunctionCallContent"/> to the
/// session the moment its update arrives, and assembles the reply with Microsoft.Extensions.AI's
/// <see cref="ChatResponseExtensions.ToChatResponse(IEnumerable{ChatResponseUpdate})"/>.
/// </summary>
/// <remarks>
/// Runs on a dispatcher worker under the request timeout. Once the attempt is over (<see cref="Close"/>: it failed, timed
/// out or was abandoned), updates that an abandoned stream still yields are dropped, so no call of a discarded attempt can
/// start. The calls handed out are the same <see cref="FunctionCallContent"/> instances that the assembled reply holds
/// (<c>ToChatResponse</c> moves contents, it does not copy them), which is how the session recognizes them afterwards.
/// </remarks>
internal sealed class StreamedReply(Action<FunctionCallContent> onCall)
{
    private readonly object _gate = new();
    private readonly List<ChatResponseUpdate> _updates = [];
    private bool _closed;
    private int _startedCalls;

    /// <summary>
    /// Gets whether the client did not stream (its streaming method threw <see cref="NotSupportedException"/> or
    /// <see cref="NotImplementedException"/>, or its stream ended without a single update) and the attempt went on as a
    /// <see cref="IChatClient.GetResponseAsync"/> call.
    /// </summary>
    public bool FellBack { get; private set; }

    /// <summary>Streams the reply and returns it assembled.</summary>
    /// <exception cref="OperationCanceledException">The attempt was closed or <paramref name="cancellationToken"/> canceled.</exception>
    public async Task<ChatResponse> ReadAsync(IChatClient client, IReadOnlyList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        IAsyncEnumerator<ChatResponseUpdate> updates;
        bool any;
        try
        {
            updates = client.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            any = await updates.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NotSupportedException or NotImplementedException)
        {
            // A client that does not stream at all (before its first update): the non-streaming request, as without streaming.
            FellBack = true;
            return await client.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }

        if (!any)
        {
            // A stream without a single update: a client that does not really stream (the OpenAI SDK used directly, say,
            // reads no events from a server that answers "stream": true with plain JSON). Ask it the plain way.
            await updates.DisposeAsync().ConfigureAwait(false);
            FellBack = true;
            return await client.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }

        await using (updates.ConfigureAwait(false))
        {
            while (any)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Add(updates.Current);
                any = await updates.MoveNextAsync().ConfigureAwait(false);
            }
        }

        lock (_gate)
        {
            if (_closed)
            {
                throw new OperationCanceledException("the streamed attempt is over");
            }

            _closed = true;
            return _updates.ToChatResponse();
        }
    }

    /// <summary>
    /// Ends the attempt: whatever the stream still yields is dropped. Returns the reply so far (text and the complete calls
    /// received) and how many calls were handed out.
    /// </summary>
    public (ChatResponse SoFar, int StartedCalls) Close()
    {
        lock (_gate)
        {
            _closed = true;
            return (_updates.ToChatResponse(), _startedCalls);
        }
    }

    private void Add(ChatResponseUpdate update)
    {
        lock (_gate)
        {
            if (_closed)
            {
                throw new OperationCanceledException("the streamed attempt is over");
            }

            _updates.Add(update);
            foreach (var content in update.Contents)
            {
                if (content is FunctionCallContent call)
                {
                    _startedCalls++;
                    onCall(call); // starts the call on the thread pool; never runs it here
                }
            }
        }
    }
}
