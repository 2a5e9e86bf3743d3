using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rlm.Tools;

namespace Rlm.Tools.Hosting.Tests;

/// <summary><c>RlmBuilder.AddWorker</c>: a named worker whose model is a keyed chat client of the container.</summary>
public class AddWorkerTests
{
    [Fact]
    public void AddWorker_ResolvesTheKeyedClient_IntoTheOptions()
    {
        var fast = new NamedClient();
        var services = new ServiceCollection();
        services.AddKeyedChatClient("fast-client", fast);
        services.AddRecursiveLanguageModel()
            .UseRootChatClient(new NamedClient())
            .AddWorker("fast", "fast-client", "fast-m", 16_000, "cheap");
        using var provider = services.BuildServiceProvider();

        var worker = Assert.Single(provider.GetRequiredService<RecursiveLanguageModel>().Options.Workers);
        Assert.Equal(("fast", "fast-m", 16_000, "cheap"), (worker.Name, worker.ModelId, worker.ContextWindow, worker.Description));
        Assert.Same(fast, worker.Client.GetService<NamedClient>());
    }

    [Fact]
    public void AddWorker_BadNameFailsAtOnce_AndAMissingClientWhenResolved()
    {
        var builder = new ServiceCollection().AddRecursiveLanguageModel().UseRootChatClient(new NamedClient());
        Assert.Throws<ArgumentException>(() => builder.AddWorker("no spaces", "k"));

        builder.AddWorker("ghost", "nothing-under-this-key");
        using var provider = builder.Services.BuildServiceProvider();
        Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<RecursiveLanguageModel>());
    }

    private sealed class NamedClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

        public void Dispose()
        {
        }
    }
}
