using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using OpenAI;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;
using Rlm.Tools.OpenAI;
using SdkChatClient = OpenAI.Chat.ChatClient;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>Errors, SDK retries, cancellation, per-request model selection, metadata and argument checks of <see cref="OpenAIChatClientFactory"/>.</summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class OpenAIChatClientBehaviorTests(LoopbackOpenAIServer server)
{
    private const string ErrorBody = """{"error":{"message":"upstream exploded","type":"server_error","code":null}}""";

    [Theory]
    [InlineData(500)]
    [InlineData(429)]
    public async Task HttpError_SurfacesAsClientResultException_WithoutLeakingTheKey(int status)
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(ErrorBody, status));
        using var client = NewClient(scenario); // default options

        ClientResultException ex = await Assert.ThrowsAsync<ClientResultException>(
            () => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]));

        Assert.Equal(status, ex.Status);
        Assert.Contains("upstream exploded", ex.Message);
        Assert.DoesNotContain(ApiKey, ex.ToString());
        Assert.Single(scenario.Requests); // by default the SDK does not retry: the engine does.
    }

    [Fact]
    public async Task HttpError_InStreaming_SurfacesAsClientResultException()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(ErrorBody, 500));
        using var client = NewClient(scenario);

        ClientResultException ex = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (ChatResponseUpdate _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")]))
            {
            }
        });

        Assert.Equal(500, ex.Status);
        Assert.DoesNotContain(ApiKey, ex.ToString());
    }

    [Fact]
    public async Task SdkRetries_429_UpToMaxRetries_ThenThrows()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(
            ErrorBody, 429, new Dictionary<string, string> { ["retry-after-ms"] = "10", ["Retry-After"] = "0" }));
        using var client = NewClient(scenario, maxRetries: 2);

        var stopwatch = Stopwatch.StartNew();
        ClientResultException ex = await Assert.ThrowsAsync<ClientResultException>(
            () => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]));

        Assert.Equal(429, ex.Status);
        Assert.Equal(3, scenario.Requests.Count); // 1 attempt + 2 retries.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"Retries took {stopwatch.Elapsed}.");
    }

    [Fact]
    public async Task SdkRetry_RecoversWhenTheServerRecovers()
    {
        int calls = 0;
        Scenario scenario = server.NewScenario((context, request) =>
            Interlocked.Increment(ref calls) == 1
                ? LoopbackOpenAIServer.Json(ErrorBody, 503, new Dictionary<string, string> { ["retry-after-ms"] = "10" })(context, request)
                : LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("recovered"))(context, request));
        using var client = NewClient(scenario, maxRetries: 1);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]);

        Assert.Equal("recovered", response.Text);
        Assert.Equal(2, scenario.Requests.Count);
    }

    [Fact]
    public async Task Cancellation_WhileServerDelays_ThrowsPromptly()
    {
        Scenario scenario = server.NewScenario(async (context, _) =>
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.ShuttingDown);
            await Task.Delay(TimeSpan.FromSeconds(30), linked.Token);
        });
        using var client = NewClient(scenario);
        using var cts = new CancellationTokenSource();

        var stopwatch = Stopwatch.StartNew();
        Task<ChatResponse> call = client.GetResponseAsync([new ChatMessage(ChatRole.User, "slow")], cancellationToken: cts.Token);
        await scenario.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        cts.Cancel();

        // WaitAsync turns "cancellation ignored" into a fast TimeoutException (not an OperationCanceledException).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"Cancellation took {stopwatch.Elapsed}.");
        Assert.Single(scenario.Requests); // cancellation is not retried
    }

    [Fact]
    public async Task Cancellation_MidStream_ThrowsPromptly()
    {
        Scenario scenario = server.NewScenario(async (context, _) =>
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.ShuttingDown);
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(
                """data: {"id":"c","object":"chat.completion.chunk","created":1714000000,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"first"},"finish_reason":null}]}""" + "\n\n",
                linked.Token);
            await context.Response.Body.FlushAsync(linked.Token);
            await Task.Delay(TimeSpan.FromSeconds(30), linked.Token);
        });
        using var client = NewClient(scenario);
        using var cts = new CancellationTokenSource();

        var stopwatch = Stopwatch.StartNew();
        List<string> texts = [];
        Task consume = Task.Run(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "slow")], cancellationToken: cts.Token))
            {
                texts.Add(update.Text);
                cts.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consume.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(["first"], texts);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"Cancellation took {stopwatch.Elapsed}.");
    }

    [Fact]
    public async Task AlreadyCanceledToken_ThrowsWithoutSendingARequest()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = NewClient(scenario);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: new CancellationToken(true)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ChatResponseUpdate _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: new CancellationToken(true)))
            {
            }
        });

        Assert.Empty(scenario.Requests);
    }

    [Fact]
    public async Task ModelId_OverridesTheModelSent_PerRequest()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = NewClient(scenario, model: "default-model");

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "a")], new ChatOptions { ModelId = "other" });
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "b")], new ChatOptions());
        await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "c")], new ChatOptions { ModelId = "stream-model" })
            .ToChatResponseAsync();
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "d")], new ChatOptions { ModelId = "other" });

        Assert.Equal(
            ["other", "default-model", "stream-model", "other"],
            scenario.Requests.Select(r => r.Json.GetProperty("model").GetString()));
        Assert.All(scenario.Requests, r => Assert.Equal("Bearer " + ApiKey, r.Authorization));
    }

    [Fact]
    public async Task OneUserBuiltOpenAIClient_ServesTwoModels()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        var openAIClient = new OpenAIClient(new ApiKeyCredential(ApiKey), OpenAIChatClientFactory.CreateClientOptions(scenario.Endpoint));
        using IChatClient root = openAIClient.GetChatClient("root-model").AsIChatClient();
        using IChatClient worker = openAIClient.GetChatClient("worker-model").AsIChatClient();

        await root.GetResponseAsync([new ChatMessage(ChatRole.User, "a")]);
        await worker.GetResponseAsync([new ChatMessage(ChatRole.User, "b")]);
        await worker.GetResponseAsync([new ChatMessage(ChatRole.User, "c")], new ChatOptions { ModelId = "other" });

        Assert.Equal(["root-model", "worker-model", "other"], scenario.Requests.Select(r => r.Json.GetProperty("model").GetString()));
    }

    [Fact]
    public void Metadata_ReportsProviderEndpointAndModel_AndTheSdkClient()
    {
        var endpoint = new Uri("http://127.0.0.1:11434/v1");
        using IChatClient client = OpenAIChatClientFactory.Create("llama3.1", endpoint: endpoint);

        ChatClientMetadata metadata = Assert.IsType<ChatClientMetadata>(client.GetService(typeof(ChatClientMetadata)));
        Assert.Equal("openai", metadata.ProviderName);
        Assert.Equal(endpoint, metadata.ProviderUri);
        Assert.Equal("llama3.1", metadata.DefaultModelId);
        Assert.IsType<SdkChatClient>(client.GetService(typeof(SdkChatClient)));
    }

    [Fact]
    public void Create_DefaultsToTheOpenAIEndpoint_AndValidatesArguments()
    {
        using IChatClient client = OpenAIChatClientFactory.Create("gpt-4o-mini", apiKey: "sk-unused");
        Assert.Equal(new Uri("https://api.openai.com/v1"), client.GetService<ChatClientMetadata>()?.ProviderUri);

        OpenAIClientOptions defaults = OpenAIChatClientFactory.CreateClientOptions();
        Assert.Equal(OpenAIChatClientFactory.DefaultEndpoint, defaults.Endpoint);
        Assert.Equal(TimeSpan.FromMinutes(10), defaults.NetworkTimeout);

        Assert.ThrowsAny<ArgumentException>(() => OpenAIChatClientFactory.Create(" "));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenAIChatClientFactory.Create("m", options: new() { NetworkTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenAIChatClientFactory.Create("m", options: new() { MaxRetries = -1 }));
    }
}
