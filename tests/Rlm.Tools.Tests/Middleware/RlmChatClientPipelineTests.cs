using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Middleware;

/// <summary>
/// <c>UseRecursiveLanguageModel()</c> in a <see cref="ChatClientBuilder"/> pipeline as M.E.AI users build one: the
/// pipeline's services, the reported model id, and streamed progress combined with <c>ToChatResponseAsync()</c>.
/// </summary>
public sealed class RlmChatClientPipelineTests
{
    private static readonly ChatOptions s_marked = new() { AdditionalProperties = new() { [RlmChatClient.UseRlmPropertyKey] = true } };

    [Fact]
    public async Task Pipeline_TakesTheBuildersServices_LoggerFactoryClockAndCustomToolServices()
    {
        var clock = new FakeTimeProvider();
        var logs = new ConcurrentQueue<string>();
        var services = new Services(new ListLoggerFactory(logs), clock, new Greeter("from the pipeline's services"));
        var whoami = AIFunctionFactory.Create((IServiceProvider sp) => ((Greeter)sp.GetService(typeof(Greeter))!).Name, "whoami");
        var inner = Root(("whoami", new { }));
        using var client = new ChatClientBuilder(inner)
            .UseRecursiveLanguageModel(o => o.RlmOptions = new RlmOptions { Tools = [whoami] })
            .Build(services);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Who am I?")], s_marked);

        var result = Assert.IsType<RlmResult>(response.RawRepresentation);
        Assert.Same(result, response.Messages[0].AdditionalProperties![RlmChatClient.ResultPropertyKey]);
        Assert.Equal("from the pipeline's services", TestChatClient.LastToolResults(inner.Requests[1].Messages).Single());
        Assert.Contains(logs, l => l.StartsWith("RLM query started", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.Zero, result.Statistics.WallTime); // the services' clock, which stands still (the system clock would not)
        Assert.Same(clock, client.GetService<RecursiveLanguageModel>()!.Options.TimeProvider);
    }

    [Fact]
    public async Task Pipeline_OptionsOfTheirOwn_AreNotReplacedByTheServices()
    {
        var clock = new FakeTimeProvider();
        var ownLogs = new ConcurrentQueue<string>();
        var serviceLogs = new ConcurrentQueue<string>();
        var inner = Root();
        var options = new RlmChatClientOptions { RlmOptions = new RlmOptions { LoggerFactory = new ListLoggerFactory(ownLogs) } };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel(options).Build(new Services(new ListLoggerFactory(serviceLogs), clock, null));

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q?")], s_marked);

        Assert.NotEmpty(ownLogs);
        Assert.Empty(serviceLogs);
        Assert.Null(options.RlmOptions.Services); // the caller's options are not changed
    }

    [Fact]
    public async Task ModelId_IsTheOneTheRootModelReported_StreamingOrNot()
    {
        using var client = new ChatClientBuilder(Root()).UseRecursiveLanguageModel().Build();

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q?")], s_marked);
        var streamed = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q?")], s_marked).ToChatResponseAsync();

        Assert.Equal("gpt-test-1", response.ModelId);
        Assert.Equal("gpt-test-1", streamed.ModelId);
    }

    [Fact]
    public async Task ModelId_WithoutOneReported_IsTheInnerClientsDefault_AndRootModelIdWins()
    {
        var inner = new MetadataClient(Root(modelId: null), "default-model-7");
        using var plain = new ChatClientBuilder(inner).UseRecursiveLanguageModel().Build();
        using var named = new ChatClientBuilder(inner).UseRecursiveLanguageModel(o => o.RlmOptions = new RlmOptions { RootModelId = "chosen" }).Build();

        Assert.Equal("default-model-7", (await plain.GetResponseAsync([new ChatMessage(ChatRole.User, "q?")], s_marked)).ModelId);
        Assert.Equal("chosen", (await named.GetResponseAsync([new ChatMessage(ChatRole.User, "q?")], s_marked)).ModelId);
    }

    [Fact]
    public async Task Streaming_CombinedWithToChatResponseAsync_HoldsOnlyTheAnswer_AndKeepsTheResult()
    {
        using var client = new ChatClientBuilder(Root(("grep", new { pattern = "x" }), ("grep", new { pattern = "y" }))).UseRecursiveLanguageModel().Build();
        var history = new List<ChatMessage> { new(ChatRole.User, "Where is x?") };

        var updates = await client.GetStreamingResponseAsync(history, s_marked).ToListAsync();
        var response = updates.ToChatResponse();
        history.AddMessages(response);

        Assert.True(updates.Count > 5, $"{updates.Count} updates"); // progress was streamed
        var message = Assert.Single(response.Messages);
        Assert.Equal("the answer", message.Text);
        Assert.All(message.Contents, c => Assert.True(c is TextContent or UsageContent, c.GetType().Name));
        Assert.Equal("the answer", history[^1].Text);
        var result = Assert.IsType<RlmResult>(message.AdditionalProperties![RlmChatClient.ResultPropertyKey]);
        Assert.Equal(RlmStopReason.Final, result.StopReason);
        Assert.Equal(result.Usage.InputTokenCount, response.Usage!.InputTokenCount);
    }

    /// <summary>A root model that makes <paramref name="calls"/> (if any), then answers with <c>final</c>; each response reports the model id <c>gpt-test-1</c>.</summary>
    private static TestChatClient Root(params (string Name, object Args)[] calls) => Root("gpt-test-1", calls);

    private static TestChatClient Root(string? modelId, params (string Name, object Args)[] calls)
    {
        int requests = 0;
        return new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) =>
            {
                var response = Interlocked.Increment(ref requests) == 1 && calls.Length > 0
                    ? TestChatClient.Calls(new UsageDetails { InputTokenCount = 10, OutputTokenCount = 1 }, calls)
                    : TestChatClient.Calls(new UsageDetails { InputTokenCount = 10, OutputTokenCount = 1 }, ("final", new { answer = "the answer" }));
                response.ModelId = modelId;
                return Task.FromResult(response);
            },
        };
    }

    private sealed record Greeter(string Name);

    private sealed class Services(ILoggerFactory loggerFactory, TimeProvider clock, Greeter? greeter) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(ILoggerFactory) ? loggerFactory
            : serviceType == typeof(TimeProvider) ? clock
            : serviceType == typeof(Greeter) ? greeter
            : null;
    }

    private sealed class MetadataClient(IChatClient inner, string defaultModelId) : DelegatingChatClient(inner)
    {
        public override object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("test", defaultModelId: defaultModelId) : base.GetService(serviceType, serviceKey);
    }

    private sealed class ListLoggerFactory(ConcurrentQueue<string> lines) : ILoggerFactory, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception));
    }
}
