using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// An <see cref="IChatClient"/> over the official OpenAI .NET SDK's <see cref="ChatClient"/>, usable with any
/// OpenAI-compatible Chat Completions endpoint (OpenAI, OpenRouter, vLLM, Ollama's <c>/v1</c>, llama.cpp server, ...).
/// </summary>
/// <remarks>
/// <para>
/// Why this class exists: Microsoft ships this adapter as the <c>Microsoft.Extensions.AI.OpenAI</c> package
/// (<c>ChatClient.AsIChatClient()</c>), but that package is NOT available in our NuGet mirror, so the adapter is
/// hand-written here on top of <c>OpenAI</c> 2.15.0 and <c>Microsoft.Extensions.AI.Abstractions</c> 10.11.0, following
/// the same structure (static <c>ToOpenAI*</c>/<c>FromOpenAI*</c> mapping methods, the SDK objects kept in
/// <c>RawRepresentation</c>).
/// </para>
/// <para>
/// Per-request model selection: an SDK <see cref="ChatClient"/> is bound to one model and the SDK's
/// <c>ChatCompletionOptions.Model</c> is internal. When <see cref="ChatOptions.ModelId"/> differs from the default model:
/// <list type="bullet">
/// <item>clients built with <see cref="Create"/> keep the <see cref="OpenAIClient"/> and obtain one
/// <see cref="ChatClient"/> per model id via <see cref="OpenAIClient.GetChatClient(string)"/>, cached in a
/// <see cref="ConcurrentDictionary{TKey, TValue}"/> (they share the same pipeline: credential, retries, timeout);</item>
/// <item>clients wrapping a caller-supplied <see cref="ChatClient"/> (no <see cref="OpenAIClient"/> available) override the
/// <c>model</c> property of that one request through the SDK's JSON patch mechanism
/// (<c>ChatCompletionOptions.Patch.Set("$.model", id)</c>, the SDK's documented "model override per request" pattern).</item>
/// </list>
/// </para>
/// <para>
/// Finish reasons: the SDK throws <see cref="ArgumentOutOfRangeException"/> while deserializing any <c>finish_reason</c>
/// outside <c>stop</c>, <c>length</c>, <c>tool_calls</c>, <c>content_filter</c> and <c>function_call</c>, or a
/// <see langword="null"/> one in a non-streaming response, which OpenAI-compatible servers do send (llama.cpp server,
/// vLLM, Ollama and some OpenRouter providers: <c>"eos"</c>, <c>"end_turn"</c>, <c>"stop_sequence"</c>, <c>"abort"</c>,
/// <c>"error"</c>, ...). Clients built with <see cref="Create"/> therefore add a pipeline policy that rewrites such
/// values in chat completion responses (non-streaming and streaming) before the SDK reads them: known values pass
/// unchanged; <c>max_tokens</c>-like values become <c>length</c>, <c>tool_use</c> becomes <c>tool_calls</c>,
/// <c>safety</c>-like values become <c>content_filter</c>; everything else, and a null/missing non-streaming value,
/// becomes <c>tool_calls</c> when the choice carries tool calls and <c>stop</c> otherwise. The
/// <see cref="ChatResponse.FinishReason"/> then follows from the rewritten value, and the server's original value is
/// kept under <see cref="RawFinishReasonKey"/> (a string, or <see langword="null"/> when the server sent none) in the
/// <c>AdditionalProperties</c> of the <see cref="ChatResponse"/> and of its assistant message, and, when streaming, of the
/// <see cref="ChatResponseUpdate"/> that carried the finish reason (which
/// <see cref="ChatResponseExtensions.ToChatResponse(IEnumerable{ChatResponseUpdate})"/> merges into the message's
/// <c>AdditionalProperties</c>, not the response's). The key is absent when nothing was rewritten. Clients wrapping a
/// caller-supplied <see cref="ChatClient"/> use that client's pipeline unchanged, so they get no such normalization (and
/// still throw on such responses).
/// </para>
/// <para>
/// Errors from the service surface as the SDK's <see cref="ClientResultException"/> (with <c>Status</c>); the SDK retries
/// 408/429/5xx responses itself (3 retries by default, see the <c>maxRetries</c> parameter of <see cref="Create"/>).
/// The API key is never logged, printed or included in messages by this class.
/// </para>
/// </remarks>
public sealed partial class OpenAIChatClient : IChatClient
{
    /// <summary>The provider name reported in <see cref="ChatClientMetadata.ProviderName"/>.</summary>
    public const string ProviderName = "openai";

    /// <summary>
    /// The key under which the raw, unparsable argument text of a tool call is stored in
    /// <see cref="FunctionCallContent.Arguments"/> when the model produced malformed JSON
    /// (<see cref="FunctionCallContent.Exception"/> is then set as well).
    /// </summary>
    public const string RawArgumentsKey = "$raw_arguments";

    /// <summary>
    /// The key under which <see cref="ChatResponse.AdditionalProperties"/>, the response message's
    /// <see cref="Microsoft.Extensions.AI.ChatMessage.AdditionalProperties"/> and (streaming)
    /// <see cref="ChatResponseUpdate.AdditionalProperties"/> hold the server's original <c>finish_reason</c> when it was one
    /// the OpenAI SDK does not accept and was rewritten (see the class remarks): the original string, or
    /// <see langword="null"/> when the server sent a null or no finish reason in a non-streaming response.
    /// </summary>
    public const string RawFinishReasonKey = "finish_reason_raw";

    /// <summary>The API key sent when none is supplied (local OpenAI-compatible servers usually ignore it).</summary>
    internal const string PlaceholderApiKey = "no-api-key";

    /// <summary>The public OpenAI endpoint, used when no endpoint is given.</summary>
    internal static readonly Uri DefaultEndpoint = new("https://api.openai.com/v1");

    private readonly ChatClient _chatClient;
    private readonly OpenAIClient? _openAIClient;
    private readonly string? _defaultModelId;
    private readonly ChatClientMetadata _metadata;
    private readonly ConcurrentDictionary<string, ChatClient> _perModelClients = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="OpenAIChatClient"/> class over an existing SDK chat client.</summary>
    /// <param name="chatClient">The SDK chat client; its model is the default model of this client.</param>
    /// <remarks>
    /// The SDK client's pipeline is used as it is: unlike clients built with <see cref="Create"/>, no finish-reason
    /// normalization is added (see the class remarks), so a response with a <c>finish_reason</c> the SDK does not know
    /// makes the SDK throw <see cref="ArgumentOutOfRangeException"/>. To get it, build the client with
    /// <see cref="Create"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="chatClient"/> is <see langword="null"/>.</exception>
    public OpenAIChatClient(ChatClient chatClient)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        _chatClient = chatClient;
#pragma warning disable OPENAI001 // ChatClient.Model/Endpoint are marked experimental in OpenAI 2.15; read for metadata and model selection.
        _defaultModelId = chatClient.Model;
        Uri? endpoint = chatClient.Endpoint;
#pragma warning restore OPENAI001
        _metadata = new ChatClientMetadata(ProviderName, endpoint, _defaultModelId);
    }

    private OpenAIChatClient(OpenAIClient openAIClient, string model, Uri endpoint)
    {
        _openAIClient = openAIClient;
        _chatClient = openAIClient.GetChatClient(model);
        _defaultModelId = model;
        _perModelClients[model] = _chatClient;
        _metadata = new ChatClientMetadata(ProviderName, endpoint, model);
    }

    /// <summary>
    /// Creates a client for <paramref name="model"/> on an OpenAI-compatible endpoint.
    /// </summary>
    /// <param name="model">The default model id (overridable per request with <see cref="ChatOptions.ModelId"/>).</param>
    /// <param name="apiKey">
    /// The API key sent as a bearer token. When <see langword="null"/> or empty, a placeholder key is sent, since local
    /// servers (Ollama, llama.cpp, vLLM) need none.
    /// </param>
    /// <param name="endpoint">
    /// The base URL, e.g. <c>https://openrouter.ai/api/v1</c> or <c>http://localhost:11434/v1</c> (Ollama);
    /// <c>chat/completions</c> is appended by the SDK. Defaults to <c>https://api.openai.com/v1</c>.
    /// </param>
    /// <param name="networkTimeout">The per-attempt network timeout; the SDK default (100 s) when <see langword="null"/>.</param>
    /// <param name="maxRetries">
    /// How many times the SDK retries a failed request (408, 429, 5xx, network errors) with exponential back-off;
    /// the SDK default (3) when <see langword="null"/>, no retry when 0.
    /// </param>
    /// <returns>A new <see cref="OpenAIChatClient"/>.</returns>
    /// <remarks>
    /// The client's pipeline normalizes <c>finish_reason</c> values the SDK does not accept; see the class remarks and
    /// <see cref="RawFinishReasonKey"/>.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="model"/> is null, empty or whitespace.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="networkTimeout"/> is not positive, or <paramref name="maxRetries"/> is negative.</exception>
    public static OpenAIChatClient Create(
        string model,
        string? apiKey = null,
        Uri? endpoint = null,
        TimeSpan? networkTimeout = null,
        int? maxRetries = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (networkTimeout is { } timeout && timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(networkTimeout), "The network timeout must be positive.");
        }

        if (maxRetries is { } retries)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(retries, nameof(maxRetries));
        }

        var options = new OpenAIClientOptions();

        // Per call = before the retry policy: runs once, on the final response, right before the SDK reads it.
        options.AddPolicy(FinishReasonNormalizingPolicy.Instance, PipelinePosition.PerCall);
        if (endpoint is not null)
        {
            options.Endpoint = endpoint;
        }

        if (networkTimeout is not null)
        {
            options.NetworkTimeout = networkTimeout;
        }

        if (maxRetries is { } maxRetryCount)
        {
            options.RetryPolicy = new ClientRetryPolicy(maxRetryCount);
        }

        var credential = new ApiKeyCredential(string.IsNullOrEmpty(apiKey) ? PlaceholderApiKey : apiKey);
        return new OpenAIChatClient(new OpenAIClient(credential, options), model, endpoint ?? DefaultEndpoint);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<AIChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();

        List<global::OpenAI.Chat.ChatMessage> openAIMessages = ToOpenAIChatMessages(messages, options);
        ChatCompletionOptions openAIOptions = ToOpenAIOptions(options, this);
        ChatClient client = SelectChatClient(options?.ModelId, openAIOptions);

        ClientResult<ChatCompletion> result = await client
            .CompleteChatAsync(openAIMessages, openAIOptions, cancellationToken)
            .ConfigureAwait(false);

        return FromOpenAIChatCompletion(result.Value);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Text deltas are yielded as they arrive. Tool-call fragments (index, id, name, argument deltas) are accumulated and
    /// yielded as complete <see cref="FunctionCallContent"/> items in one final update once the stream has ended. The SDK
    /// requests <c>stream_options.include_usage</c>, so the usage chunk is yielded as a <see cref="UsageContent"/>.
    /// When the server's finish reason had to be rewritten (see the class remarks), the update of that chunk carries the
    /// original under <see cref="RawFinishReasonKey"/>; if the response ended in tool calls, the final tool-call update
    /// carries it too, with <see cref="Microsoft.Extensions.AI.ChatFinishReason.ToolCalls"/> in place of a rewritten
    /// <c>stop</c>.
    /// </remarks>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<AIChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();

        List<global::OpenAI.Chat.ChatMessage> openAIMessages = ToOpenAIChatMessages(messages, options);
        ChatCompletionOptions openAIOptions = ToOpenAIOptions(options, this);
        ChatClient client = SelectChatClient(options?.ModelId, openAIOptions);

        var toolCalls = new StreamingToolCallAccumulator();
        string? responseId = null;
        string? modelId = null;
        DateTimeOffset? createdAt = null;
        Microsoft.Extensions.AI.ChatFinishReason? finishReason = null;
        bool finishReasonRewritten = false;
        object? rawFinishReason = null;

        AsyncCollectionResult<StreamingChatCompletionUpdate> stream =
            client.CompleteChatStreamingAsync(openAIMessages, openAIOptions, cancellationToken);

        await foreach (StreamingChatCompletionUpdate update in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            responseId ??= NullIfEmpty(update.CompletionId);
            modelId ??= NullIfEmpty(update.Model);
            if (createdAt is null && update.CreatedAt != default)
            {
                createdAt = update.CreatedAt;
            }

            finishReason = FromOpenAIFinishReason(update.FinishReason) ?? finishReason;
            toolCalls.Add(update.ToolCallUpdates);

            ChatResponseUpdate mapped = FromOpenAIStreamingUpdate(update);
            if (mapped.AdditionalProperties?.TryGetValue(RawFinishReasonKey, out object? raw) == true)
            {
                finishReasonRewritten = true;
                rawFinishReason = raw;
            }

            yield return mapped;
        }

        if (toolCalls.HasCalls)
        {
            var final = new ChatResponseUpdate(ChatRole.Assistant, toolCalls.Build())
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = modelId,
                CreatedAt = createdAt,
                FinishReason = finishReason,
            };

            if (finishReasonRewritten)
            {
                // The unknown reason arrived in a chunk without tool-call deltas and was rewritten to "stop"; the
                // response did end in tool calls (the non-streaming rewrite sees the whole message and says so too).
                if (finishReason == Microsoft.Extensions.AI.ChatFinishReason.Stop)
                {
                    final.FinishReason = Microsoft.Extensions.AI.ChatFinishReason.ToolCalls;
                }

                final.AdditionalProperties = new() { [RawFinishReasonKey] = rawFinishReason };
            }

            yield return final;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Answers <see cref="ChatClientMetadata"/> (provider <c>"openai"</c>, endpoint, default model id), the underlying
    /// <see cref="ChatClient"/>, the <see cref="OpenAIClient"/> when built with <see cref="Create"/>, and this instance for
    /// its own types. Keyed requests return <see langword="null"/>.
    /// </remarks>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        if (serviceType == typeof(ChatClient))
        {
            return _chatClient;
        }

        if (serviceType == typeof(OpenAIClient))
        {
            return _openAIClient;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Releases nothing: the SDK clients hold no disposable resources of their own.</summary>
    public void Dispose()
    {
    }

    /// <summary>Picks the SDK client for the requested model, per the class remarks.</summary>
    private ChatClient SelectChatClient(string? modelId, ChatCompletionOptions openAIOptions)
    {
        if (string.IsNullOrEmpty(modelId) || string.Equals(modelId, _defaultModelId, StringComparison.Ordinal))
        {
            return _chatClient;
        }

        if (_openAIClient is not null)
        {
            return _perModelClients.GetOrAdd(modelId, static (id, client) => client.GetChatClient(id), _openAIClient);
        }

#pragma warning disable SCME0001 // JsonPatch is marked experimental in System.ClientModel; it is the SDK's per-request model override.
        openAIOptions.Patch.Set("$.model"u8, modelId);
#pragma warning restore SCME0001
        return _chatClient;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
