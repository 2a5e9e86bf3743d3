using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using OpenAI;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;
using OpenAIChatClient = Rlm.Tools.OpenAI.OpenAIChatClient;
using SdkChatClient = OpenAI.Chat.ChatClient;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>Errors, retries, cancellation, per-request model selection and GetService.</summary>
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
        using var client = NewClient(scenario, maxRetries: 0);

        ClientResultException ex = await Assert.ThrowsAsync<ClientResultException>(
            () => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]));

        Assert.Equal(status, ex.Status);
        Assert.Contains("upstream exploded", ex.Message);
        Assert.DoesNotContain(ApiKey, ex.ToString());
        Assert.Single(scenario.Requests); // maxRetries: 0 => exactly one attempt.
    }

    [Fact]
    public async Task HttpError_InStreaming_SurfacesAsClientResultException()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(ErrorBody, 500));
        using var client = NewClient(scenario, maxRetries: 0);

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
    public async Task ModelId_OverridesTheModelSent_ForClientsFromCreate()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = NewClient(scenario, model: "default-model");

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "a")], new ChatOptions { ModelId = "override-model" });
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "b")]);
        await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "c")], new ChatOptions { ModelId = "stream-model" })
            .ToChatResponseAsync();
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "d")], new ChatOptions { ModelId = "override-model" });

        Assert.Equal(
            ["override-model", "default-model", "stream-model", "override-model"],
            scenario.Requests.Select(r => r.Json.GetProperty("model").GetString()));
        Assert.All(scenario.Requests, r => Assert.Equal("Bearer " + ApiKey, r.Authorization));
    }

    [Fact]
    public async Task ModelId_OverridesTheModelSent_ForWrappedSdkChatClients()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        var sdkClient = new SdkChatClient(
            "wrapped-default",
            new ApiKeyCredential(ApiKey),
            new OpenAIClientOptions { Endpoint = scenario.Endpoint, RetryPolicy = new ClientRetryPolicy(0) });
        using var client = new OpenAIChatClient(sdkClient);

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "a")], new ChatOptions { ModelId = "wrapped-override" });
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "b")]);
        await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "c")], new ChatOptions { ModelId = "wrapped-stream" })
            .ToChatResponseAsync();

        Assert.Equal(
            ["wrapped-override", "wrapped-default", "wrapped-stream"],
            scenario.Requests.Select(r => r.Json.GetProperty("model").GetString()));
    }

    [Fact]
    public void GetService_ReturnsMetadataSdkClientAndSelf()
    {
        var endpoint = new Uri("http://127.0.0.1:11434/v1");
        using var client = OpenAIChatClient.Create("llama3.1", endpoint: endpoint);
        IChatClient chatClient = client;

        ChatClientMetadata metadata = Assert.IsType<ChatClientMetadata>(chatClient.GetService(typeof(ChatClientMetadata)));
        Assert.Equal("openai", metadata.ProviderName);
        Assert.Equal(endpoint, metadata.ProviderUri);
        Assert.Equal("llama3.1", metadata.DefaultModelId);

        SdkChatClient sdk = Assert.IsType<SdkChatClient>(chatClient.GetService(typeof(SdkChatClient)));
#pragma warning disable OPENAI001
        Assert.Equal("llama3.1", sdk.Model);
#pragma warning restore OPENAI001
        Assert.IsType<OpenAIClient>(chatClient.GetService(typeof(OpenAIClient)));
        Assert.Same(client, chatClient.GetService(typeof(OpenAIChatClient)));
        Assert.Same(client, chatClient.GetService(typeof(IChatClient)));
        Assert.Null(chatClient.GetService(typeof(string)));
        Assert.Null(chatClient.GetService(typeof(ChatClientMetadata), serviceKey: "keyed"));
    }

    [Fact]
    public void GetService_OnWrappedSdkClient_ReportsItsModelAndEndpoint()
    {
        var endpoint = new Uri("http://127.0.0.1:8080/v1");
        var sdkClient = new SdkChatClient("qwen", new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = endpoint });
        using var client = new OpenAIChatClient(sdkClient);

        ChatClientMetadata? metadata = client.GetService<ChatClientMetadata>();
        Assert.Equal("openai", metadata?.ProviderName);
        Assert.Equal(endpoint, metadata?.ProviderUri);
        Assert.Equal("qwen", metadata?.DefaultModelId);
        Assert.Same(sdkClient, client.GetService<SdkChatClient>());
    }

    [Fact]
    public void Create_DefaultsToTheOpenAIEndpoint_AndValidatesArguments()
    {
        using var client = OpenAIChatClient.Create("gpt-4o-mini", apiKey: "sk-unused");
        Assert.Equal(new Uri("https://api.openai.com/v1"), client.GetService<ChatClientMetadata>()?.ProviderUri);

        Assert.ThrowsAny<ArgumentException>(() => OpenAIChatClient.Create(" "));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenAIChatClient.Create("m", networkTimeout: TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenAIChatClient.Create("m", maxRetries: -1));
        Assert.Throws<ArgumentNullException>(() => new OpenAIChatClient(null!));
    }
}
