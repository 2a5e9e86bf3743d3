using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using Rlm.Tools.Middleware;

namespace Rlm.Tools;

/// <summary>
/// Chat-client middleware that answers requests too large for the inner model with a Recursive Language Model run, the
/// inner client being the root model. Smaller requests pass through unchanged.
/// </summary>
/// <remarks>
/// <para><b>When.</b> A request goes through a run when <see cref="ChatOptions.AdditionalProperties"/> has
/// <see cref="UseRlmPropertyKey"/> set to <see langword="true"/>, or when it has more than
/// <see cref="RlmChatClientOptions.ThresholdTokens"/> tokens (see there for what is counted). Setting the key to
/// <see langword="false"/> makes a request pass through whatever its size.</para>
/// <para><b>How.</b> The large contents become the run's context as named documents: every text attachment
/// (<see cref="DataContent"/> with a text media type, named by <see cref="DataContent.Name"/> or
/// <c>attachment-N.txt</c>) and every text or function result of at least
/// <see cref="RlmChatClientOptions.MinDocumentTokens"/> tokens (named <c>message-N-role.txt</c>, N counting messages from
/// 1). The last user message, with its moved contents replaced by their documents' names, is the query; when the whole
/// message was one pasted text, its short first and last paragraphs (the user's own words around the paste, up to 2,000
/// characters each) stay in the query. If nothing is left, the query is <see cref="DefaultQuery"/>. The earlier messages
/// are added to the query as a transcript (see <see cref="RlmChatClientOptions.MaxConversationTokens"/>). Images and
/// other binary contents are not read; the caller's <see cref="ChatOptions"/> (tools, model id, temperature) do not
/// apply to the run, whose requests use <see cref="RlmChatClientOptions.RlmOptions"/>. A run sees only the messages of
/// the request, not a history a service keeps under <see cref="ChatOptions.ConversationId"/>.</para>
/// <para><b>What comes back.</b> A <see cref="ChatResponse"/> with one assistant message holding the answer, the
/// <see cref="UsageDetails"/> summed over every model call of the run at every depth, the <see cref="RlmResult"/> as
/// <see cref="ChatResponse.RawRepresentation"/> and under <see cref="ResultPropertyKey"/> in the answer message's
/// <see cref="ChatMessage.AdditionalProperties"/>, <see cref="ChatFinishReason.Stop"/> (or <see cref="ChatFinishReason.Length"/>
/// when the run hit <see cref="RlmOptions.MaxIterations"/>) and as model id <see cref="RlmOptions.RootModelId"/>, else the
/// id the root model's responses reported, else the inner client's <see cref="ChatClientMetadata.DefaultModelId"/>.
/// Streaming is built on <see cref="RecursiveLanguageModel.QueryStreamingAsync(string, IReadOnlyList{RlmDocument}, CancellationToken)"/>:
/// it yields one update per <see cref="RlmEvent"/> of the run first (see <see cref="RlmChatClientOptions.StreamProgress"/>),
/// each without contents (the event is its <see cref="ChatResponseUpdate.RawRepresentation"/> and is under
/// <see cref="EventPropertyKey"/>), so progress never becomes message text when updates are combined with
/// <c>ToChatResponseAsync()</c>; then, from <see cref="RlmRunCompleted"/>, one update with the answer, a
/// <see cref="UsageContent"/> and the <see cref="RlmResult"/> under <see cref="ResultPropertyKey"/>, which the combined
/// response keeps in its message's <see cref="ChatMessage.AdditionalProperties"/>. A root model failure surfaces as <see cref="RlmModelException"/>.</para>
/// <para><see cref="GetService"/> returns the <see cref="Rlm.Tools.RecursiveLanguageModel"/> for
/// <c>typeof(RecursiveLanguageModel)</c> and this client's options for <c>typeof(RlmChatClientOptions)</c>.</para>
/// </remarks>
public sealed class RlmChatClient : DelegatingChatClient
{
    /// <summary>
    /// The key in <see cref="ChatOptions.AdditionalProperties"/> that marks a request: <see langword="true"/> (or the string
    /// <c>"true"</c>) sends it through a run whatever its size, <see langword="false"/> lets it pass through whatever its size.
    /// </summary>
    public const string UseRlmPropertyKey = "rlm";

    /// <summary>
    /// The key in a streamed update's <see cref="ChatResponseUpdate.AdditionalProperties"/> whose value is the
    /// <see cref="RlmEvent"/> it was built from (the answer's update: the <see cref="RlmRunCompleted"/>).
    /// </summary>
    public const string EventPropertyKey = "rlm.event";

    /// <summary>
    /// The key in the answer message's <see cref="ChatMessage.AdditionalProperties"/> (and in the answer's streamed update,
    /// which <c>ToChatResponseAsync()</c> merges into the message's) whose value is the run's <see cref="RlmResult"/>.
    /// </summary>
    public const string ResultPropertyKey = "rlm.result";

    /// <summary>
    /// The key in the answer message's <see cref="ChatMessage.AdditionalProperties"/> (and the answer's streamed update)
    /// whose value is the answer's checked citations, an <see cref="IReadOnlyList{T}"/> of <see cref="RlmCitation"/>
    /// (<see cref="RlmResult.Citations"/>; empty when none).
    /// </summary>
    public const string CitationsPropertyKey = "rlm.citations";

    /// <summary>The run's query when the last user message has no text of its own.</summary>
    public const string DefaultQuery = "Do what the user asks in the documents, and answer.";

    private readonly RlmChatClientOptions _options;
    private readonly Tokenizer _tokenizer;
    private readonly RlmOptions _rlmOptions;

    /// <summary>Creates the middleware over <paramref name="innerClient"/>, which is the root model of every run.</summary>
    /// <param name="innerClient">The client requests pass through to, and the root model of the runs.</param>
    /// <param name="options">Options; <see langword="null"/> uses the defaults of <see cref="RlmChatClientOptions"/>. They are copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="innerClient"/> is <see langword="null"/>.</exception>
    public RlmChatClient(IChatClient innerClient, RlmChatClientOptions? options = null)
        : base(innerClient)
    {
        _options = options?.Clone() ?? new RlmChatClientOptions();
        _tokenizer = _options.Tokenizer ?? RlmChatClientOptions.DefaultTokenizer;
        _rlmOptions = _options.RlmOptions ?? new RlmOptions();
        int chars = (int)Math.Min(int.MaxValue, 2L * _options.ThresholdTokens);
        _rlmOptions.MaxConversationChars = Math.Min(_rlmOptions.MaxConversationChars, chars);
        _rlmOptions.MaxToolOutputChars = Math.Max(200, Math.Min(_rlmOptions.MaxToolOutputChars, chars / 8));
        if (_options.WorkerClient is null)
        {
            _rlmOptions.MaxLeafChars = Math.Min(_rlmOptions.MaxLeafChars, chars);
        }

        RecursiveLanguageModel = new RecursiveLanguageModel(innerClient, _options.WorkerClient, _rlmOptions);
    }

    /// <summary>Gets the Recursive Language Model that answers large requests (its root model is the inner client).</summary>
    public RecursiveLanguageModel RecursiveLanguageModel { get; }

    /// <summary>Gets the tokenizer that counts requests.</summary>
    public Tokenizer Tokenizer => _tokenizer;

    /// <summary>Gets the threshold in tokens above which a request goes through a run.</summary>
    public int ThresholdTokens => _options.ThresholdTokens;

    /// <summary>Tells whether a request would be answered by a run rather than passed through.</summary>
    /// <param name="messages">The request's messages.</param>
    /// <param name="options">The request's options.</param>
    /// <returns><see langword="false"/> for a request without messages (it passes through); else <see langword="true"/> when the request is marked with <see cref="UseRlmPropertyKey"/> = <see langword="true"/>, or is not marked <see langword="false"/> and has more than <see cref="ThresholdTokens"/> tokens.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is <see langword="null"/>.</exception>
    public bool ShouldUseRecursiveLanguageModel(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        return ShouldUse(new RequestReader(_tokenizer, _options), list, options);
    }

    /// <summary>Counts a request's tokens as the threshold does, stopping one past <see cref="ThresholdTokens"/>.</summary>
    /// <param name="messages">The request's messages.</param>
    /// <param name="options">The request's options (instructions and tool declarations count).</param>
    /// <returns>The count, or <see cref="ThresholdTokens"/> + 1 for any request over the threshold.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is <see langword="null"/>.</exception>
    public int CountTokens(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        return new RequestReader(_tokenizer, _options).CountRequestTokens(list, options, _options.ThresholdTokens);
    }

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var reader = new RequestReader(_tokenizer, _options); // one reader: text attachments are decoded once
        if (!ShouldUse(reader, list, options))
        {
            return await base.GetResponseAsync(messages is IReadOnlyList<ChatMessage> ? messages : list, options, cancellationToken).ConfigureAwait(false);
        }

        var (query, documents) = reader.Plan(list, options);
        var format = AnswerFormatOf(options);
        var result = format is null
            ? await RecursiveLanguageModel.QueryAsync(query, documents, cancellationToken).ConfigureAwait(false)
            : await RecursiveLanguageModel.QueryAsync(query, documents, format, cancellationToken).ConfigureAwait(false);
        string responseId = NewId();
        var message = new ChatMessage(ChatRole.Assistant, Text(result))
        {
            MessageId = responseId,
            CreatedAt = DateTimeOffset.UtcNow,
            AdditionalProperties = new() { [ResultPropertyKey] = result, [CitationsPropertyKey] = result.Citations },
        };
        return new ChatResponse(message)
        {
            ResponseId = responseId,
            CreatedAt = message.CreatedAt,
            ModelId = ModelIdOf(result),
            FinishReason = FinishReason(result),
            Usage = result.Usage,
            RawRepresentation = result,
        };
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var reader = new RequestReader(_tokenizer, _options); // one reader: text attachments are decoded once
        if (!ShouldUse(reader, list, options))
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages is IReadOnlyList<ChatMessage> ? messages : list, options, cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }

            yield break;
        }

        var (query, documents) = reader.Plan(list, options);
        string responseId = NewId();

        // Built on the run's event stream: each event becomes an update (when StreamProgress), RlmRunCompleted the answer.
        // Stopping the enumeration early cancels the run; RlmModelException and cancellation come out unwrapped.
        var format = AnswerFormatOf(options);
        var events = format is null
            ? RecursiveLanguageModel.QueryStreamingAsync(query, documents, cancellationToken)
            : RecursiveLanguageModel.QueryStreamingAsync(query, documents, format, cancellationToken);
        await foreach (var e in events.ConfigureAwait(false))
        {
            if (e is RlmRunCompleted completed)
            {
                var result = completed.Result;
                format?.EnsureValid(result);
                var answer = NewUpdate(responseId, new TextContent(Text(result)), new UsageContent(result.Usage));
                answer.ModelId = ModelIdOf(result);
                answer.FinishReason = FinishReason(result);
                answer.RawRepresentation = result;
                answer.AdditionalProperties = new() { [EventPropertyKey] = completed, [ResultPropertyKey] = result, [CitationsPropertyKey] = result.Citations };
                yield return answer;
            }
            else if (_options.StreamProgress)
            {
                // No contents: a caller that combines the updates (ToChatResponseAsync) and keeps the message in its
                // history must not get the progress lines as assistant text or reasoning.
                var update = NewUpdate(responseId);
                update.RawRepresentation = e;
                update.AdditionalProperties = new() { [EventPropertyKey] = e };
                yield return update;
            }
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is null)
        {
            if (serviceType == typeof(RecursiveLanguageModel))
            {
                return RecursiveLanguageModel;
            }

            if (serviceType == typeof(RlmChatClientOptions))
            {
                return _options.Clone();
            }
        }

        return base.GetService(serviceType, serviceKey);
    }

    private bool ShouldUse(RequestReader reader, IReadOnlyList<ChatMessage> messages, ChatOptions? options) =>
        messages.Count > 0 && (Marker(options) ?? reader.CountRequestTokens(messages, options, _options.ThresholdTokens) > _options.ThresholdTokens);

    private ChatResponseUpdate NewUpdate(string responseId, params AIContent[] contents) => new(ChatRole.Assistant, [.. contents])
    {
        ResponseId = responseId,
        MessageId = responseId,
        CreatedAt = DateTimeOffset.UtcNow,
        ModelId = _rlmOptions.RootModelId,
    };

    /// <summary>The model id to report: the one set, else the last one the root model's responses reported, else the inner client's default.</summary>
    private string? ModelIdOf(RlmResult result) =>
        _rlmOptions.RootModelId
        ?? LastRootModelId(result.Trajectory)
        ?? InnerClient.GetService<ChatClientMetadata>()?.DefaultModelId;

    private static string? LastRootModelId(RlmTraceNode node)
    {
        string? found = node is { Kind: RlmTraceKind.ModelCall, Depth: 0, ModelId: { } id } && id != "root" ? id : null; // "root": none reported
        foreach (var child in node.Children)
        {
            if (child.Depth == 0)
            {
                found = LastRootModelId(child) ?? found;
            }
        }

        return found;
    }

    private static ChatFinishReason FinishReason(RlmResult result) =>
        result.StopReason == RlmStopReason.IterationLimit ? ChatFinishReason.Length : ChatFinishReason.Stop;

    /// <summary>The message text: the answer; for a run that had none (a budget stop), why it stopped, so the user is told something.</summary>
    private static string Text(RlmResult result) => result.Answer.Length > 0 ? result.Answer : result.StopMessage ?? "";

    /// <summary>
    /// The request's JSON-schema response format (<see cref="ChatResponseFormatJson.Schema"/>, as <c>GetResponseAsync&lt;T&gt;</c>
    /// sends it) as the answer's format: the root's <c>final</c> declares it and answers are validated against it.
    /// </summary>
    private Orchestration.AnswerFormat? AnswerFormatOf(ChatOptions? options) =>
        options?.ResponseFormat is ChatResponseFormatJson { Schema: { } schema } ? Orchestration.AnswerFormat.ForSchema(schema, _rlmOptions.MaxAnswerFormatRetries) : null;

    private static string NewId() => "rlm-" + Guid.NewGuid().ToString("N");

    private static bool? Marker(ChatOptions? options)
    {
        if (options?.AdditionalProperties is not { } properties || !properties.TryGetValue(UseRlmPropertyKey, out object? value))
        {
            return null;
        }

        return value switch
        {
            bool b => b,
            string s when bool.TryParse(s, out bool parsed) => parsed,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            JsonElement { ValueKind: JsonValueKind.False } => false,
            _ => null,
        };
    }
}
