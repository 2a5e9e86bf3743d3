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

    /// <summary>
    /// Adds a named worker (<see cref="RlmOptions.Workers"/>) whose model is the keyed <see cref="IChatClient"/> registered
    /// under <paramref name="serviceKey"/> (for example with M.E.AI's <c>services.AddKeyedChatClient("fast", …)</c>),
    /// resolved when the options are built.
    /// </summary>
    /// <param name="name">The name the model uses (letters, digits, <c>_</c> and <c>-</c>; 1 to 64 characters; unique).</param>
    /// <param name="serviceKey">The key of the worker's chat client in the container.</param>
    /// <param name="modelId">The model id sent with its requests; <see langword="null"/> for the client's own default.</param>
    /// <param name="contextWindow">The model's context window in tokens; <see langword="null"/> when not known.</param>
    /// <param name="description">What the worker is good for, shown to the model; optional.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="serviceKey"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid worker name (checked here, before the container is built).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="contextWindow"/> is less than 1.</exception>
    /// <remarks>A missing keyed client throws <see cref="InvalidOperationException"/> when the model is resolved.</remarks>
    public RlmBuilder AddWorker(string name, object serviceKey, string? modelId = null, int? contextWindow = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        _ = new RlmWorker(name, NoClient.Instance, modelId, contextWindow, description); // the same checks as at resolution, now
        Services.AddOptions<RlmOptions>(_optionsName).Configure<IServiceProvider>((options, services) =>
            options.Workers.Add(new RlmWorker(name, services.GetRequiredKeyedService<IChatClient>(serviceKey), modelId, contextWindow, description)));
        return this;
    }

    private RlmBuilder UseChatClient(string key, Func<IServiceProvider, IChatClient> clientFactory, Action<ChatClientBuilder>? configurePipeline)
    {
        ArgumentNullException.ThrowIfNull(clientFactory);
        var pipeline = Services.AddKeyedChatClient(key, clientFactory);
        configurePipeline?.Invoke(pipeline);
        return this;
    }

    /// <summary>A placeholder client, only to check a worker's arguments before the container exists; never asked.</summary>
    private sealed class NoClient : IChatClient
    {
        public static readonly NoClient Instance = new();

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
