using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;
using OpenAI.Chat;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// Makes a streamed Chat Completions reply hand out each tool call as soon as its arguments are complete, instead of all
/// of them after the last chunk: Microsoft.Extensions.AI.OpenAI (10.11) accumulates the <c>tool_calls</c> deltas of a
/// stream and yields every <see cref="FunctionCallContent"/> in one extra update after the stream has ended, so a caller
/// that runs calls as they arrive (the Rlm.Tools engine, <c>RlmOptions.StreamRootResponses</c>) would get nothing early.
/// </summary>
/// <remarks>
/// <para>
/// Hand-written because no library offers it. It reads the same SDK deltas that M.E.AI accumulates
/// (<see cref="StreamingChatCompletionUpdate.ToolCallUpdates"/> in each update's <see cref="ChatResponseUpdate.RawRepresentation"/>)
/// and keeps its own copy of each call's id, name and argument text, by <c>index</c>. A call is complete when its argument
/// text is one whole JSON object (nothing can follow a closed object in valid JSON, so no later delta can change it; this
/// holds even when a server interleaves the deltas of several calls). Complete calls are added to the update that
/// completed them, in the order the calls first appeared, and only as an unbroken prefix of that order, so the assembled
/// reply lists its calls in the same order as without this client. Arguments are parsed as M.E.AI parses them
/// (<see cref="FunctionCallContent.CreateFromParsedArguments{TEncoding}"/> into a dictionary of <see cref="JsonElement"/> values).
/// </para>
/// <para>
/// M.E.AI's own final update then loses the calls already handed out (same call id); calls that never became complete
/// (malformed arguments, an empty argument text, a missing id or name) are left to it, as they are without this client, so
/// each call is handed out exactly once. Non-streaming requests pass through untouched.
/// </para>
/// </remarks>
internal sealed class EarlyToolCallChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    private static readonly JsonTypeInfo s_argumentsType = AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>));

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages,
        ChatOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var calls = new Dictionary<int, PendingCall>();
        var order = new List<PendingCall>(); // first-seen order, as M.E.AI lists them
        int emitted = 0;                      // calls of `order` handed out so far (a prefix)
        HashSet<string>? emittedIds = null;

        await using var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await updates.MoveNextAsync().ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (Exception e) when (IsUnreadableResponse(e))
            {
                throw Unreadable(e);
            }

            var update = updates.Current;
            if (update.RawRepresentation is StreamingChatCompletionUpdate { ToolCallUpdates: { Count: > 0 } deltas })
            {
                foreach (var delta in deltas)
                {
                    if (!calls.TryGetValue(delta.Index, out var call))
                    {
                        calls[delta.Index] = call = new PendingCall();
                        order.Add(call);
                    }

                    call.CallId ??= delta.ToolCallId;
                    call.Name ??= delta.FunctionName;
                    if (delta.FunctionArgumentsUpdate is { } arguments && !arguments.ToMemory().IsEmpty)
                    {
                        string text = arguments.ToString();
                        call.Arguments.Append(text);
                        call.MayBeComplete = text.AsSpan().TrimEnd().EndsWith("}", StringComparison.Ordinal);
                    }
                }

                while (emitted < order.Count && order[emitted].TryComplete() is { } complete)
                {
                    update.Contents.Add(complete);
                    (emittedIds ??= new(StringComparer.Ordinal)).Add(complete.CallId);
                    emitted++;
                }
            }
            else if (emittedIds is not null && update.RawRepresentation is null)
            {
                // M.E.AI's closing update with every call: drop the ones already handed out.
                for (int i = update.Contents.Count - 1; i >= 0; i--)
                {
                    if (update.Contents[i] is FunctionCallContent { CallId: { } id } && emittedIds.Contains(id))
                    {
                        update.Contents.RemoveAt(i);
                    }
                }
            }

            yield return update;
        }
    }

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnreadableResponse(e))
        {
            throw Unreadable(e);
        }
    }

    /// <summary>
    /// What the OpenAI SDK throws while it reads a response it cannot use (empty <c>choices</c>, a missing field, an unknown
    /// enum value): the Rlm.Tools engine retries an unreadable response but fails at once on a client's own bug, and only
    /// this room knows that these exceptions come from reading the provider's reply.
    /// </summary>
    private static bool IsUnreadableResponse(Exception e) =>
        e is ArgumentException or KeyNotFoundException or IndexOutOfRangeException or NullReferenceException or InvalidCastException
        || (e is InvalidOperationException && e is not ObjectDisposedException);

    private static InvalidDataException Unreadable(Exception e) => new($"The response could not be read: {e.GetType().Name}: {e.Message}", e);

    private sealed class PendingCall
    {
        public string? CallId;
        public string? Name;
        public readonly StringBuilder Arguments = new();
        public bool MayBeComplete; // the latest argument delta ends with '}': worth a parse

        /// <summary>The call, when its id, name and a whole JSON object of arguments have arrived; otherwise null.</summary>
        public FunctionCallContent? TryComplete()
        {
            if (!MayBeComplete || string.IsNullOrEmpty(CallId) || string.IsNullOrWhiteSpace(Name))
            {
                return null;
            }

            MayBeComplete = false; // parse again only after a further '}'
            string json = Arguments.ToString();
            if (!IsWholeObject(json))
            {
                return null;
            }

            return FunctionCallContent.CreateFromParsedArguments(json, CallId, Name,
                static json => (IDictionary<string, object?>?)JsonSerializer.Deserialize(json, s_argumentsType));
        }

        private static bool IsWholeObject(string json)
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                reader.Skip(); // throws when the object is not closed
                return !reader.Read(); // and nothing but whitespace follows it
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }
}
