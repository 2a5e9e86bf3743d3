using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// Builds <see cref="IChatClient"/>s for any OpenAI-compatible Chat Completions endpoint (OpenAI, OpenRouter, vLLM,
/// Ollama's <c>/v1</c>, llama.cpp server, ...) the standard Microsoft.Extensions.AI way:
/// <c>new OpenAIClient(credential, options).GetChatClient(model).AsIChatClient()</c>
/// (<see cref="OpenAIClientExtensions.AsIChatClient(global::OpenAI.Chat.ChatClient)"/>), with client options suited to
/// real servers and to the Rlm.Tools engine.
/// </summary>
/// <remarks>
/// <para>
/// Everything about the chat request and response (messages, tools sent as function declarations, tool results, tool
/// calls with their arguments, usage, finish reasons, streaming) is Microsoft.Extensions.AI.OpenAI's mapping; this class
/// adds only client options (<see cref="CreateClientOptions"/>):
/// </para>
/// <list type="bullet">
/// <item><b>Finish reasons real servers send.</b> The OpenAI SDK throws <see cref="ArgumentOutOfRangeException"/> while
/// reading a chat completion whose <c>finish_reason</c> is not <c>stop</c>, <c>length</c>, <c>tool_calls</c>,
/// <c>content_filter</c> or <c>function_call</c>, or is <see langword="null"/> in a non-streaming response. llama.cpp
/// server, vLLM, Ollama and some OpenRouter providers send such values (<c>"eos"</c>, <c>"end_turn"</c>,
/// <c>"stop_sequence"</c>, <c>"abort"</c>, <c>"max_tokens"</c>, <c>null</c>, ...). A pipeline policy rewrites them in
/// chat completion responses, streaming or not, before the SDK reads them: <c>max_tokens</c>-like values become
/// <c>length</c> (<see cref="ChatFinishReason.Length"/>), <c>tool_use</c> becomes <c>tool_calls</c>, <c>safety</c>-like
/// values become <c>content_filter</c>, and anything else (and a missing or null value in a non-streaming response)
/// becomes <c>tool_calls</c> when the choice carries tool calls, <c>stop</c> otherwise. The server's original value is
/// not kept: <see cref="ChatResponse.FinishReason"/> and <see cref="ChatResponse.RawRepresentation"/> show the
/// rewritten one. Known values, other responses and other endpoints pass byte-for-byte unchanged.</item>
/// <item><b>Servers that ignore <c>"stream": true</c>.</b> A streaming request answered with a plain JSON chat completion
/// (the SDK would read no events from it) is turned into the equivalent event stream: one chunk per choice with the
/// whole message as its delta, a usage chunk, <c>[DONE]</c>.</item>
/// <item><b>No SDK retries by default.</b> The Rlm.Tools engine retries every model request itself, with exponential
/// back-off, so the SDK's own retries (3 by default in the SDK) are off unless
/// <see cref="OpenAIChatClientFactoryOptions.MaxRetries"/> says otherwise.</item>
/// <item><b>A network-timeout backstop</b> of <see cref="OpenAIChatClientFactoryOptions.DefaultNetworkTimeout"/>
/// (the SDK's own default is 100 s); the engine bounds each request with <c>RlmOptions.ModelRequestTimeout</c>.</item>
/// </list>
/// <para>
/// The model given to <see cref="Create"/> is the default; a request's <see cref="ChatOptions.ModelId"/>, when set,
/// is sent instead (Microsoft.Extensions.AI.OpenAI patches the request's <c>model</c>), so one client can serve a root
/// and a worker model. Errors from the service surface as the SDK's <see cref="ClientResultException"/> (with
/// <see cref="ClientResultException.Status"/>); connection failures as <see cref="System.Net.Http.HttpRequestException"/>
/// inside it; <see cref="OpenAIErrors.Describe"/> turns either into one line for people.
/// </para>
/// </remarks>
public static class OpenAIChatClientFactory
{
    /// <summary>The public OpenAI endpoint, used when no endpoint is given.</summary>
    public static Uri DefaultEndpoint { get; } = new("https://api.openai.com/v1");

    /// <summary>The API key sent when none is given; local OpenAI-compatible servers usually ignore the key.</summary>
    public const string PlaceholderApiKey = "no-api-key";

    /// <summary>
    /// Creates a chat client for <paramref name="model"/> on an OpenAI-compatible endpoint:
    /// <c>new OpenAIClient(new ApiKeyCredential(apiKey), CreateClientOptions(endpoint, options)).GetChatClient(model).AsIChatClient()</c>,
    /// whose streamed replies hand out each tool call as soon as its arguments are complete (see remarks).
    /// </summary>
    /// <remarks>
    /// Microsoft.Extensions.AI.OpenAI yields the <see cref="FunctionCallContent"/>s of a streamed reply only after its last
    /// chunk. The client returned here adds each call to the update in which its argument JSON became a whole object (in
    /// the order the calls appeared; each call exactly once; M.E.AI's closing update keeps only calls that never became
    /// complete, such as malformed ones), so a caller can start it while the rest of the reply streams. Non-streaming
    /// requests and everything else are M.E.AI's, unchanged.
    /// </remarks>
    /// <param name="model">The default model id (a request's <see cref="ChatOptions.ModelId"/> overrides it).</param>
    /// <param name="apiKey">
    /// The API key, sent as a bearer token. When <see langword="null"/> or empty, <see cref="PlaceholderApiKey"/> is
    /// sent, since local servers (Ollama, llama.cpp, vLLM) need none.
    /// </param>
    /// <param name="endpoint">
    /// The base URL, e.g. <c>https://openrouter.ai/api/v1</c> or <c>http://localhost:11434/v1</c> (Ollama); the SDK
    /// appends <c>/chat/completions</c> (a trailing slash is fine). <see cref="DefaultEndpoint"/> when <see langword="null"/>.
    /// </param>
    /// <param name="options">Retries and network timeout; the defaults of <see cref="OpenAIChatClientFactoryOptions"/> when <see langword="null"/>.</param>
    /// <returns>
    /// Microsoft.Extensions.AI.OpenAI's <see cref="IChatClient"/> over the SDK's chat client, in a
    /// <see cref="DelegatingChatClient"/> that hands out streamed tool calls early; its
    /// <see cref="ChatClientMetadata"/> reports provider <c>openai</c>, the endpoint and the model.
    /// </returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="model"/> is null, empty or whitespace; or <paramref name="apiKey"/> is given and
    /// <paramref name="endpoint"/> is plain <c>http://</c> to a host other than loopback
    /// (<see cref="IsInsecureEndpoint"/>) while <see cref="OpenAIChatClientFactoryOptions.AllowInsecureHttp"/> is off.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <see cref="OpenAIChatClientFactoryOptions.MaxRetries"/> is negative, or
    /// <see cref="OpenAIChatClientFactoryOptions.NetworkTimeout"/> is neither positive nor infinite.
    /// </exception>
    public static IChatClient Create(string model, string? apiKey = null, Uri? endpoint = null, OpenAIChatClientFactoryOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (!string.IsNullOrEmpty(apiKey) && endpoint is not null && IsInsecureEndpoint(endpoint) && options?.AllowInsecureHttp != true)
        {
            throw new ArgumentException(
                $"The API key would be sent unencrypted: {DescribeEndpoint(endpoint)} is plain http:// to a host other than this machine " +
                "(localhost, 127.0.0.0/8, ::1). Use https://, or set OpenAIChatClientFactoryOptions.AllowInsecureHttp to send it anyway.",
                nameof(endpoint));
        }

        var credential = new ApiKeyCredential(string.IsNullOrEmpty(apiKey) ? PlaceholderApiKey : apiKey);
        return new EarlyToolCallChatClient(new OpenAIClient(credential, CreateClientOptions(endpoint, options)).GetChatClient(model).AsIChatClient());
    }

    /// <summary>
    /// Gets whether <paramref name="endpoint"/> is plain <c>http://</c> to a host other than this machine: anything sent
    /// to it, an API key included, crosses the network unencrypted. Loopback hosts are <c>localhost</c> and the literal
    /// addresses 127.0.0.0/8 and <c>::1</c> (a name is not resolved).
    /// </summary>
    /// <param name="endpoint">An absolute URL.</param>
    /// <returns><see langword="true"/> for <c>http://</c> to any other host; <see langword="false"/> for <c>https://</c> and loopback.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is <see langword="null"/>.</exception>
    public static bool IsInsecureEndpoint(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!string.Equals(endpoint.Scheme, Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // The host the request will connect to (System.Uri already maps the name "loopback" to "localhost"); a name is
        // not resolved, so only "localhost" and literal loopback addresses count.
        string host = endpoint.IdnHost;
        return !(string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address)));
    }

    /// <summary>
    /// Returns <paramref name="endpoint"/> as it may be shown in messages and logs: scheme, host, port and path only, without
    /// user info, query string or fragment (where credentials such as <c>?key=</c> or <c>user:password@</c> travel).
    /// </summary>
    /// <param name="endpoint">An absolute URL.</param>
    /// <returns>For example <c>https://example.com/v1</c> for <c>https://user:secret@example.com/v1?key=abc</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is <see langword="null"/>.</exception>
    public static string DescribeEndpoint(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
    }

    /// <summary>
    /// Creates the <see cref="OpenAIClientOptions"/> that <see cref="Create"/> uses, for building an
    /// <see cref="OpenAIClient"/> yourself (for example one client that serves several models):
    /// <see cref="OpenAIClientOptions.Endpoint"/>, the finish-reason policy, the SDK's retries and its network timeout.
    /// </summary>
    /// <param name="endpoint">The base URL (see <see cref="Create"/>); <see cref="DefaultEndpoint"/> when <see langword="null"/>.</param>
    /// <param name="options">Retries and network timeout; the defaults of <see cref="OpenAIChatClientFactoryOptions"/> when <see langword="null"/>.</param>
    /// <returns>
    /// New options: the finish-reason policy added at <see cref="PipelinePosition.PerCall"/> (it runs once per call,
    /// after any SDK retries, on the response the SDK is about to read), <c>RetryPolicy = new ClientRetryPolicy(MaxRetries)</c>
    /// and <see cref="ClientPipelineOptions.NetworkTimeout"/> set. Add your own policies or transport as usual.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <see cref="OpenAIChatClientFactoryOptions.MaxRetries"/> is negative, or
    /// <see cref="OpenAIChatClientFactoryOptions.NetworkTimeout"/> is neither positive nor infinite.
    /// </exception>
    public static OpenAIClientOptions CreateClientOptions(Uri? endpoint = null, OpenAIChatClientFactoryOptions? options = null)
    {
        options ??= new OpenAIChatClientFactoryOptions();
        if (options.MaxRetries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxRetries, "MaxRetries must not be negative.");
        }

        if (options.NetworkTimeout <= TimeSpan.Zero && options.NetworkTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.NetworkTimeout, "The network timeout must be positive or infinite.");
        }

        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = endpoint ?? DefaultEndpoint,
            RetryPolicy = new ClientRetryPolicy(options.MaxRetries),
            NetworkTimeout = options.NetworkTimeout,
        };

        // Per call = before the retry policy: runs once, on the final response, right before the SDK reads it.
        clientOptions.AddPolicy(FinishReasonNormalizingPolicy.Instance, PipelinePosition.PerCall);
        return clientOptions;
    }
}
