using System.ClientModel.Primitives;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// A pipeline policy that makes successful Chat Completions responses from OpenAI-compatible servers deserializable by
/// the OpenAI SDK, whose <c>ChatFinishReason</c> parsing throws <see cref="ArgumentOutOfRangeException"/> on any
/// <c>finish_reason</c> it does not know (<c>"eos"</c>, <c>"end_turn"</c>, <c>"abort"</c>, ..., or <see langword="null"/>
/// in a non-streaming response), which llama.cpp server, vLLM, Ollama and some OpenRouter providers send.
/// </summary>
/// <remarks>
/// <para>
/// Added by <see cref="OpenAIChatClientFactory.CreateClientOptions"/> at <see cref="PipelinePosition.PerCall"/>, i.e. before the retry
/// policy: it runs once per call, after any retries, on the response the SDK is about to read. It only acts on
/// non-error responses to <c>POST .../chat/completions</c>; every other response is left byte-for-byte untouched.
/// </para>
/// <para>
/// Non-streaming responses (<see cref="PipelineMessage.BufferResponse"/> is <see langword="true"/>; the transport has
/// already buffered the body): the JSON body is parsed and, only when a finish reason has to change, rewritten by
/// <see cref="FinishReasonNormalizer"/>; the new bytes replace the body through the
/// <see cref="PipelineResponse.ContentStream"/> setter (which drops the transport's buffered copy), followed by
/// <see cref="PipelineResponse.BufferContent(CancellationToken)"/> so that <see cref="PipelineResponse.Content"/>, which the
/// SDK deserializes, holds the rewritten body. Streaming responses (the SDK turns buffering off): the network stream is
/// wrapped in a <see cref="FinishReasonNormalizingStream"/>, which rewrites <c>data:</c> lines as they are read.
/// </para>
/// <para>
/// A streaming request answered with a plain JSON body (a server that ignores <c>"stream": true</c>; the SDK would read
/// no events from it and lose the reply) is buffered and replaced with the equivalent event stream
/// (<see cref="JsonToEventStream"/>), its finish reasons normalized as for any non-streaming body.
/// </para>
/// </remarks>
internal sealed class FinishReasonNormalizingPolicy : PipelinePolicy
{
    /// <summary>Gets the shared, stateless instance.</summary>
    public static FinishReasonNormalizingPolicy Instance { get; } = new();

    private FinishReasonNormalizingPolicy()
    {
    }

    /// <inheritdoc />
    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        ProcessNext(message, pipeline, currentIndex);
        if (IsPlainJsonForStreamingRequest(message))
        {
            message.Response!.BufferContent(message.CancellationToken);
            ReplaceWithEventStream(message.Response);
            return;
        }

        if (CreateReplacementContent(message) is { } replacement)
        {
            message.Response!.ContentStream = replacement;
            if (message.BufferResponse)
            {
                message.Response.BufferContent(message.CancellationToken);
            }
        }
    }

    /// <inheritdoc />
    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
        if (IsPlainJsonForStreamingRequest(message))
        {
            await message.Response!.BufferContentAsync(message.CancellationToken).ConfigureAwait(false);
            ReplaceWithEventStream(message.Response);
            return;
        }

        if (CreateReplacementContent(message) is { } replacement)
        {
            message.Response!.ContentStream = replacement;
            if (message.BufferResponse)
            {
                await message.Response.BufferContentAsync(message.CancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Returns the stream that should replace the response content, or <see langword="null"/> to leave it as it is.
    /// </summary>
    private static Stream? CreateReplacementContent(PipelineMessage message)
    {
        if (message.Response is not { IsError: false } response || !IsChatCompletionsRequest(message.Request))
        {
            return null;
        }

        if (!message.BufferResponse)
        {
            // Streaming: the SDK reads server-sent events from the live network stream.
            return response.ContentStream is { } network ? new FinishReasonNormalizingStream(network) : null;
        }

        BinaryData content = response.Content;
        if (content.IsEmpty)
        {
            return null;
        }

        if (IsEventStream(response))
        {
            // A buffered event stream (e.g. a protocol-method call with "stream": true): rewrite it in memory.
            return new FinishReasonNormalizingStream(content.ToStream());
        }

        byte[]? rewritten = FinishReasonNormalizer.TryNormalize(content.ToMemory().Span, streaming: false);
        return rewritten is null ? null : new MemoryStream(rewritten, writable: false);
    }

    /// <summary>A streaming request answered with a plain JSON body (a server that ignores <c>"stream": true</c>).</summary>
    private static bool IsPlainJsonForStreamingRequest(PipelineMessage message)
        => !message.BufferResponse
            && message.Response is { IsError: false } response
            && IsChatCompletionsRequest(message.Request)
            && response.Headers.TryGetValue("Content-Type", out string? contentType)
            && contentType is not null
            && contentType.Contains("json", StringComparison.OrdinalIgnoreCase)
            && !contentType.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Replaces a buffered chat completion with the equivalent event stream (<see cref="JsonToEventStream"/>); anything else is left as it is.</summary>
    private static void ReplaceWithEventStream(PipelineResponse response)
    {
        // Not seekable, as the network stream it replaces: the transport's response buffers a seekable content stream
        // again when it is disposed, which fails once the SDK has read it to the end.
        BinaryData content = response.Content;
        response.ContentStream = new FinishReasonNormalizingStream(JsonToEventStream.TryConvert(content.ToMemory().Span) is { } events
            ? new MemoryStream(events, writable: false)
            : content.ToStream());
    }

    private static bool IsChatCompletionsRequest(PipelineRequest request)
        => string.Equals(request.Method, "POST", StringComparison.OrdinalIgnoreCase)
            && request.Uri is { } uri
            && uri.AbsolutePath.TrimEnd('/').EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase);

    private static bool IsEventStream(PipelineResponse response)
        => response.Headers.TryGetValue("Content-Type", out string? contentType)
            && contentType is not null
            && contentType.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
}
