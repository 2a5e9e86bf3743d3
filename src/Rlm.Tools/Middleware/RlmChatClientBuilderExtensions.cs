using Rlm.Tools;

namespace Microsoft.Extensions.AI;

/// <summary>
/// Attaches an <see cref="RlmChatClient"/> to a chat pipeline. In the namespace <c>Microsoft.Extensions.AI</c>, next to
/// that library's own <c>Use…</c> extensions, so it is found where they are.
/// </summary>
public static class RlmChatClientBuilderExtensions
{
    /// <summary>
    /// Answers requests too large for the client below (more than <see cref="RlmChatClientOptions.ThresholdTokens"/>
    /// tokens, 100,000 by default) or marked with <see cref="RlmChatClient.UseRlmPropertyKey"/> by a Recursive Language
    /// Model run whose root model is the client below; smaller requests pass through unchanged. See <see cref="RlmChatClient"/>.
    /// </summary>
    /// <param name="builder">The pipeline's builder.</param>
    /// <param name="configure">Sets the options (threshold, worker client, run options); <see langword="null"/> keeps the defaults.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ChatClientBuilder UseRecursiveLanguageModel(this ChatClientBuilder builder, Action<RlmChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use(innerClient =>
        {
            var options = new RlmChatClientOptions();
            configure?.Invoke(options);
            return new RlmChatClient(innerClient, options);
        });
    }

    /// <summary>Like <see cref="UseRecursiveLanguageModel(ChatClientBuilder, Action{RlmChatClientOptions}?)"/>, with given options.</summary>
    /// <param name="builder">The pipeline's builder.</param>
    /// <param name="options">The options; they are copied when the pipeline is built.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    public static ChatClientBuilder UseRecursiveLanguageModel(this ChatClientBuilder builder, RlmChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.Use(innerClient => new RlmChatClient(innerClient, options));
    }
}
