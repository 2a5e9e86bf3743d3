using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Rlm.Tools.Hosting;

/// <summary>
/// Configures the <see cref="RecursiveLanguageModel"/> registered by
/// <see cref="RlmServiceCollectionExtensions.AddRecursiveLanguageModel(IServiceCollection)"/>: its root and worker chat
/// clients and its options.
/// </summary>
public sealed class RlmBuilder
{
    private readonly string _optionsName;

    internal RlmBuilder(IServiceCollection services, object? serviceKey, string optionsName)
    {
        Services = services;
        ServiceKey = serviceKey;
        _optionsName = optionsName;
    }

    /// <summary>Gets the service collection the model is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the key of the model (<see cref="RlmServiceCollectionExtensions.AddKeyedRecursiveLanguageModel(IServiceCollection, object)"/>), or <see langword="null"/> for the unkeyed one.</summary>
    public object? ServiceKey { get; }

    /// <summary>Registers <paramref name="client"/> as the root model (keyed <see cref="RlmServiceKeys.Root"/>, or <see cref="RlmServiceKeys.RootOf"/> for a keyed model).</summary>
    /// <param name="client">The root model. The container owns it and disposes it with itself.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> is <see langword="null"/>.</exception>
    public RlmBuilder UseRootChatClient(IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return UseRootChatClient(_ => client);
    }

    /// <summary>Registers the root model (a keyed singleton <see cref="IChatClient"/> under <see cref="RlmServiceKeys.Root"/>), as M.E.AI's <c>AddKeyedChatClient</c> does.</summary>
    /// <param name="clientFactory">Creates the inner client from the container's services.</param>
    /// <param name="configurePipeline">Adds middleware around the inner client (for example <c>UseLogging()</c>, <c>UseOpenTelemetry()</c>); optional.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="clientFactory"/> is <see langword="null"/>.</exception>
    public RlmBuilder UseRootChatClient(Func<IServiceProvider, IChatClient> clientFactory, Action<ChatClientBuilder>? configurePipeline = null)
    {
        return UseChatClient(ServiceKey is null ? RlmServiceKeys.Root : RlmServiceKeys.RootOf(ServiceKey), clientFactory, configurePipeline);
    }

    /// <summary>Registers <paramref name="client"/> as the worker model (keyed <see cref="RlmServiceKeys.Worker"/>).</summary>
    /// <param name="client">The worker model for sub-calls. The container owns it and disposes it with itself.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> is <see langword="null"/>.</exception>
    public RlmBuilder UseWorkerChatClient(IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return UseWorkerChatClient(_ => client);
    }

    /// <summary>Registers the worker model (a keyed singleton <see cref="IChatClient"/> under <see cref="RlmServiceKeys.Worker"/>). Without one, the root model also serves the sub-calls.</summary>
    /// <param name="clientFactory">Creates the inner client from the container's services.</param>
    /// <param name="configurePipeline">Adds middleware around the inner client; optional.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="clientFactory"/> is <see langword="null"/>.</exception>
    public RlmBuilder UseWorkerChatClient(Func<IServiceProvider, IChatClient> clientFactory, Action<ChatClientBuilder>? configurePipeline = null)
    {
        return UseChatClient(ServiceKey is null ? RlmServiceKeys.Worker : RlmServiceKeys.WorkerOf(ServiceKey), clientFactory, configurePipeline);
    }

    /// <summary>Configures the options in code. Runs after the configuration section is bound, so it overrides it.</summary>
    /// <param name="configure">Sets options; values out of range throw <see cref="ArgumentOutOfRangeException"/> (a programming error, not a configuration one).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="configure"/> is <see langword="null"/>.</exception>
    public RlmBuilder Configure(Action<RlmOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(_optionsName, configure);
        return this;
    }

    private RlmBuilder UseChatClient(string key, Func<IServiceProvider, IChatClient> clientFactory, Action<ChatClientBuilder>? configurePipeline)
    {
        ArgumentNullException.ThrowIfNull(clientFactory);
        var pipeline = Services.AddKeyedChatClient(key, clientFactory);
        configurePipeline?.Invoke(pipeline);
        return this;
    }
}
