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
    /// <remarks>
    /// Like M.E.AI's own <c>Use…</c> extensions, it takes what the pipeline's services (those given to
    /// <see cref="ChatClientBuilder.Build(IServiceProvider?)"/>) offer, where the run options have none of their own: their
    /// <see cref="Microsoft.Extensions.Logging.ILoggerFactory"/> as <see cref="RlmOptions.LoggerFactory"/>, their
    /// <see cref="TimeProvider"/> as <see cref="RlmOptions.TimeProvider"/>, and the services themselves as
    /// <see cref="RlmOptions.Services"/> for custom tools.
    /// </remarks>
    /// <param name="builder">The pipeline's builder.</param>
    /// <param name="configure">Sets the options (threshold, worker client, run options); <see langword="null"/> keeps the defaults.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ChatClientBuilder UseRecursiveLanguageModel(this ChatClientBuilder builder, Action<RlmChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((innerClient, services) =>
        {
            var options = new RlmChatClientOptions();
            configure?.Invoke(options);
            return new RlmChatClient(innerClient, WithServices(options, services));
        });
    }

    /// <summary>Like <see cref="UseRecursiveLanguageModel(ChatClientBuilder, Action{RlmChatClientOptions}?)"/>, with given options (the pipeline's services fill in as there).</summary>
    /// <param name="builder">The pipeline's builder.</param>
    /// <param name="options">The options; they are copied when the pipeline is built.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    public static ChatClientBuilder UseRecursiveLanguageModel(this ChatClientBuilder builder, RlmChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.Use((innerClient, services) => new RlmChatClient(innerClient, WithServices(options, services)));
    }

    /// <summary>A copy of <paramref name="options"/> whose run options take the pipeline's logger factory, clock and services where they have none.</summary>
    private static RlmChatClientOptions WithServices(RlmChatClientOptions options, IServiceProvider services)
    {
        var copy = options.Clone();
        var run = copy.RlmOptions ?? new RlmOptions();
        run.LoggerFactory ??= services.GetService(typeof(Microsoft.Extensions.Logging.ILoggerFactory)) as Microsoft.Extensions.Logging.ILoggerFactory;
        if (ReferenceEquals(run.TimeProvider, TimeProvider.System) && services.GetService(typeof(TimeProvider)) is TimeProvider time)
        {
            run.TimeProvider = time;
        }

        run.Services ??= services;
        copy.RlmOptions = run;
        return copy;
    }
}
