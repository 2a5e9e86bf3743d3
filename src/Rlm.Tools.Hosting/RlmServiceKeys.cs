namespace Rlm.Tools.Hosting;

/// <summary>
/// The names under which <see cref="Microsoft.Extensions.DependencyInjection.RlmServiceCollectionExtensions.AddRecursiveLanguageModel(Microsoft.Extensions.DependencyInjection.IServiceCollection)"/>
/// looks for its chat clients and its configuration.
/// </summary>
/// <remarks>
/// The root and worker models are keyed <see cref="Microsoft.Extensions.AI.IChatClient"/> services, registered with
/// <see cref="RlmBuilder.UseRootChatClient(Func{IServiceProvider, Microsoft.Extensions.AI.IChatClient}, Action{Microsoft.Extensions.AI.ChatClientBuilder}?)"/>
/// and <see cref="RlmBuilder.UseWorkerChatClient(Func{IServiceProvider, Microsoft.Extensions.AI.IChatClient}, Action{Microsoft.Extensions.AI.ChatClientBuilder}?)"/>
/// or directly with M.E.AI's <c>services.AddKeyedChatClient(RlmServiceKeys.Root, …)</c>.
/// </remarks>
public static class RlmServiceKeys
{
    /// <summary>The service key of the root model: <c>"rlm-root"</c>. Without a client under this key, the unkeyed <see cref="Microsoft.Extensions.AI.IChatClient"/> is the root.</summary>
    public const string Root = "rlm-root";

    /// <summary>The service key of the worker model (sub-calls at depth 1 and below): <c>"rlm-worker"</c>. Without a client under this key, the root model is the worker.</summary>
    public const string Worker = "rlm-worker";

    /// <summary>The configuration section bound to <see cref="RlmOptions"/> when no other is given: <c>"Rlm"</c> (for example <c>Rlm:MaxDepth</c>, or <c>Rlm__MaxDepth</c> as an environment variable).</summary>
    public const string ConfigurationSection = "Rlm";

    /// <summary>
    /// Gets the service key of the root model of the model registered with
    /// <see cref="Microsoft.Extensions.DependencyInjection.RlmServiceCollectionExtensions.AddKeyedRecursiveLanguageModel(Microsoft.Extensions.DependencyInjection.IServiceCollection, object)"/>
    /// under <paramref name="serviceKey"/>: <c>"rlm-root:&lt;key&gt;"</c>.
    /// </summary>
    /// <param name="serviceKey">The keyed model's key.</param>
    /// <returns>The key, for <c>AddKeyedChatClient</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="serviceKey"/> is <see langword="null"/>.</exception>
    public static string RootOf(object serviceKey)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        return Root + ":" + serviceKey;
    }

    /// <summary>Gets the service key of the worker model of the keyed model <paramref name="serviceKey"/>: <c>"rlm-worker:&lt;key&gt;"</c>.</summary>
    /// <param name="serviceKey">The keyed model's key.</param>
    /// <returns>The key, for <c>AddKeyedChatClient</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="serviceKey"/> is <see langword="null"/>.</exception>
    public static string WorkerOf(object serviceKey)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        return Worker + ":" + serviceKey;
    }
}
