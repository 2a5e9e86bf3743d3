namespace Rlm.Tools.OpenAI;

/// <summary>
/// Transport settings for the clients built by <see cref="OpenAIChatClientFactory"/>.
/// </summary>
/// <remarks>
/// The defaults suit clients handed to a <c>Rlm.Tools.RecursiveLanguageModel</c>, which retries every model request
/// itself (with back-off) and bounds each request with <c>RlmOptions.ModelRequestTimeout</c>: the SDK does not retry,
/// and the network timeout is only a backstop.
/// </remarks>
public sealed class OpenAIChatClientFactoryOptions
{
    /// <summary>The default <see cref="NetworkTimeout"/>: 10 minutes.</summary>
    public static readonly TimeSpan DefaultNetworkTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets how many times the OpenAI SDK itself retries a failed request (408, 429, 5xx, connection errors) with its
    /// exponential back-off. Default 0: the Rlm.Tools engine retries model requests itself, and retries in both places
    /// would multiply. Set it when the client is used without the engine.
    /// </summary>
    /// <remarks>Must not be negative; checked when the client options are built.</remarks>
    public int MaxRetries { get; init; }

    /// <summary>
    /// Gets the SDK's network timeout for one HTTP attempt (<c>OpenAIClientOptions.NetworkTimeout</c>). Default
    /// <see cref="DefaultNetworkTimeout"/> (10 minutes), a backstop for a hung connection: the engine bounds each model
    /// request with <c>RlmOptions.ModelRequestTimeout</c>. <see cref="Timeout.InfiniteTimeSpan"/> disables it.
    /// </summary>
    /// <remarks>Must be positive or <see cref="Timeout.InfiniteTimeSpan"/>; checked when the client options are built.</remarks>
    public TimeSpan NetworkTimeout { get; init; } = DefaultNetworkTimeout;

    /// <summary>
    /// Gets whether <see cref="OpenAIChatClientFactory.Create"/> may send an API key over plain <c>http://</c> to a host
    /// other than this machine. Default <see langword="false"/>: such an endpoint with a key is refused with an
    /// <see cref="ArgumentException"/>, since the key would cross the network unencrypted. Loopback hosts (<c>localhost</c>,
    /// 127.0.0.0/8, <c>::1</c>), <c>https://</c> endpoints and clients without a key are never refused.
    /// </summary>
    public bool AllowInsecureHttp { get; init; }
}
