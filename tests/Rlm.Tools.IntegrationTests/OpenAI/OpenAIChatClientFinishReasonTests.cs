using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using OpenAI;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;
using Rlm.Tools.OpenAI;
using SdkChatClient = OpenAI.Chat.ChatClient;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>
/// Finish reasons the OpenAI SDK does not know (sent by llama.cpp, vLLM, Ollama, some OpenRouter providers) must not make
/// a call fail: the pipeline policy added by <see cref="OpenAIChatClientFactory.CreateClientOptions"/> rewrites them before
/// the SDK reads them.
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class OpenAIChatClientFinishReasonTests(LoopbackOpenAIServer server)
{
    private const string StreamHead = "\"id\":\"chatcmpl-fr\",\"object\":\"chat.completion.chunk\",\"created\":1714000200,\"model\":\"local-llm\"";

    /// <summary>A non-streaming completion whose first choice has the given raw <c>finish_reason</c> JSON (or none).</summary>
    private static string Completion(string? finishReasonJson, string messageJson = """{"role":"assistant","content":"All done."}""")
        => $$$"""
            {"id":"chatcmpl-fr1","object":"chat.completion","created":1714000100,"model":"local-llm",
             "choices":[{"index":0,"message":{{{messageJson}}}{{{(finishReasonJson is null ? "" : ",\"finish_reason\":" + finishReasonJson)}}}}],
             "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}
            """;

    private const string ToolCallMessage = """
        {"role":"assistant","content":null,"tool_calls":[
          {"id":"call_1","type":"function","function":{"name":"run_code","arguments":"{\"code\":\"print(1)\"}"}}]}
        """;

    private static string Chunk(string delta, string finishReasonJson = "null")
        => "{" + StreamHead + ",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finishReasonJson + "}]}";

    private static string UsageChunk(int total)
        => "{" + StreamHead + ",\"choices\":[],\"usage\":{\"prompt_tokens\":" + (total - 2) + ",\"completion_tokens\":2,\"total_tokens\":" + total + "}}";

    // -----------------------------------------------------------------------------------------------------------------
    // Non-streaming
    // -----------------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("eos", "stop")]
    [InlineData("abort", "stop")]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("error", "stop")]
    [InlineData("STOP", "stop")]
    [InlineData("max_tokens", "length")]
    public async Task GetResponse_UnknownFinishReason_IsMapped_AndTheResponseIsIntact(string serverValue, string expected)
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(Completion(JsonSerializer.Serialize(serverValue))));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(new ChatFinishReason(expected), response.FinishReason);
        Assert.Equal("All done.", response.Text);
        Assert.Equal("chatcmpl-fr1", response.ResponseId);
        Assert.Equal("local-llm", response.ModelId);
        Assert.Equal(12, response.Usage?.InputTokenCount);
        Assert.Equal(3, response.Usage?.OutputTokenCount);
        Assert.Equal(15, response.Usage?.TotalTokenCount);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
    }

    [Theory]
    [InlineData("null")]
    [InlineData(null)] // finish_reason missing altogether
    public async Task GetResponse_NullFinishReason_WithoutToolCalls_IsStop(string? finishReasonJson)
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(Completion(finishReasonJson)));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("All done.", response.Text);
        Assert.Equal(15, response.Usage?.TotalTokenCount);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"eos\"")]
    [InlineData("\"end_turn\"")]
    public async Task GetResponse_NullOrUnknownFinishReason_WithToolCalls_IsToolCalls(string finishReasonJson)
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(Completion(finishReasonJson, ToolCallMessage)));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("call_1", call.CallId);
        Assert.Equal("run_code", call.Name);
        Assert.Equal("print(1)", Assert.IsType<JsonElement>(call.Arguments!["code"]).GetString());
        Assert.Equal(15, response.Usage?.TotalTokenCount);
    }

    [Theory]
    [InlineData("length")]
    [InlineData("stop")]
    [InlineData("tool_calls")]
    [InlineData("content_filter")]
    public async Task GetResponse_KnownFinishReason_PassesThroughUnchanged(string serverValue)
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(Completion(JsonSerializer.Serialize(serverValue))));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(new ChatFinishReason(serverValue), response.FinishReason);
        Assert.Equal("All done.", response.Text);
    }

    [Fact]
    public async Task ProtocolCall_KnownFinishReason_BodyIsByteForByteUnchanged()
    {
        // Odd spacing and an escaped non-ASCII character: any re-serialization would show.
        string body = Completion("\"length\"", """{"role":"assistant",  "content":"caf\u00e9 \ud83d\ude00"}""");
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(body));
        using var client = NewClient(scenario);
        var sdkClient = (SdkChatClient)client.GetService(typeof(SdkChatClient))!;

        ClientResult result = await sdkClient.CompleteChatAsync(
            BinaryContent.Create(BinaryData.FromString("""{"model":"test-model","messages":[{"role":"user","content":"q"}]}""")),
            new RequestOptions());

        Assert.Equal(body, result.GetRawResponse().Content.ToString());
    }

    [Fact]
    public async Task ProtocolCall_UnknownFinishReason_ResponseContentIsReplaced()
    {
        string body = Completion("\"eos\"", """{"role":"assistant","content":"café"}""");
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(body));
        using var client = NewClient(scenario);
        var sdkClient = (SdkChatClient)client.GetService(typeof(SdkChatClient))!;

        ClientResult result = await sdkClient.CompleteChatAsync(
            BinaryContent.Create(BinaryData.FromString("""{"model":"test-model","messages":[{"role":"user","content":"q"}]}""")),
            new RequestOptions());

        // Both views of the response body (buffered Content, and a fresh ContentStream) hold the rewritten JSON.
        PipelineResponse raw = result.GetRawResponse();
        JsonElement patched = JsonDocument.Parse(raw.Content.ToString()).RootElement;
        Assert.Equal("stop", patched.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.False(patched.TryGetProperty("rlm_original_finish_reason", out _)); // the original is not kept.
        Assert.Equal("café", patched.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(15, patched.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        using var reader = new StreamReader(raw.ContentStream!, Encoding.UTF8);
        Assert.Equal(raw.Content.ToString(), await reader.ReadToEndAsync());

        // ... and the SDK model reads it.
        global::OpenAI.Chat.ChatCompletion completion = ModelReaderWriter.Read<global::OpenAI.Chat.ChatCompletion>(raw.Content)!;
        Assert.Equal(global::OpenAI.Chat.ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task ProtocolCall_BufferedEventStream_IsRewrittenInMemory()
    {
        // A protocol call with "stream": true but default (buffered) request options: the whole event stream is buffered.
        string[] chunks = [Chunk("""{"role":"assistant","content":"x"}"""), Chunk("{}", "\"eos\""), "[DONE]"];
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Sse(chunks));
        using var client = NewClient(scenario);
        var sdkClient = (SdkChatClient)client.GetService(typeof(SdkChatClient))!;

        ClientResult result = await sdkClient.CompleteChatAsync(
            BinaryContent.Create(BinaryData.FromString("""{"model":"test-model","stream":true,"messages":[{"role":"user","content":"q"}]}""")),
            new RequestOptions());

        string expected = string.Concat(
            "data: " + chunks[0] + "\n\n",
            "data: " + Chunk("{}", "\"stop\"") + "\n\n",
            "data: [DONE]\n\n");
        Assert.Equal(expected, result.GetRawResponse().Content.ToString());
    }

    [Fact]
    public async Task NonChatPath_IsLeftUntouched()
    {
        // A body that would be rewritten on the chat completions path.
        string body = Completion("\"eos\"");
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(body));
        var openAIClient = new OpenAIClient(new ApiKeyCredential(ApiKey), OpenAIChatClientFactory.CreateClientOptions(scenario.Endpoint));

        ClientResult result = await openAIClient.GetOpenAIModelClient().GetModelsAsync(new RequestOptions());

        Assert.EndsWith("/v1/models", scenario.SingleRequest.Path);
        Assert.Equal(body, result.GetRawResponse().Content.ToString());
    }

    [Fact]
    public async Task UnknownFinishReason_AfterASdkRetry_IsStillNormalized()
    {
        int attempts = 0;
        Scenario scenario = server.NewScenario((context, request) =>
            Interlocked.Increment(ref attempts) == 1
                ? LoopbackOpenAIServer.Json("""{"error":{"message":"busy"}}""", 503, new Dictionary<string, string> { ["retry-after-ms"] = "10" })(context, request)
                : LoopbackOpenAIServer.Json(Completion("\"eos\""))(context, request));
        using var client = NewClient(scenario, maxRetries: 1);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(2, scenario.Requests.Count);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("All done.", response.Text);
    }

    [Fact]
    public void SynchronousSdkCalls_ThroughTheSamePipeline_AreNormalizedToo()
    {
        string[] chunks = [Chunk("""{"role":"assistant","content":"sync"}"""), Chunk("{}", "\"eos\""), "[DONE]"];
        Scenario scenario = server.NewScenario((context, request) => request.Json.TryGetProperty("stream", out JsonElement stream) && stream.GetBoolean()
            ? LoopbackOpenAIServer.Sse(chunks)(context, request)
            : LoopbackOpenAIServer.Json(Completion("\"eos\""))(context, request));
        using var client = NewClient(scenario);
        var sdkClient = (SdkChatClient)client.GetService(typeof(SdkChatClient))!;

        global::OpenAI.Chat.ChatCompletion completion = sdkClient.CompleteChat([new global::OpenAI.Chat.UserChatMessage("q")]).Value;
        Assert.Equal(global::OpenAI.Chat.ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("All done.", completion.Content[0].Text);

        global::OpenAI.Chat.StreamingChatCompletionUpdate[] updates =
            sdkClient.CompleteChatStreaming([new global::OpenAI.Chat.UserChatMessage("q")]).ToArray();
        Assert.Equal("sync", string.Concat(updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text)));
        Assert.Equal(global::OpenAI.Chat.ChatFinishReason.Stop, updates.Last(u => u.FinishReason is not null).FinishReason);
    }

    [Fact]
    public async Task WithoutThePolicy_TheSdkStillThrowsOnUnknownFinishReasons()
    {
        // Why the policy exists: the same response through a plain SDK client (no CreateClientOptions) fails. If this test
        // ever fails because the call succeeds, the SDK has learned to read such values and the policy can go.
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(Completion("\"eos\"")));
        var sdkClient = new SdkChatClient(
            DefaultModel, new ApiKeyCredential(ApiKey), new OpenAIClientOptions { Endpoint = scenario.Endpoint, RetryPolicy = new ClientRetryPolicy(0) });
        using IChatClient client = sdkClient.AsIChatClient();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]));
    }

    [Fact]
    public async Task UserBuiltOpenAIClient_WithCreateClientOptions_IsNormalizedToo()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(Completion("\"end_turn\"")));
        var openAIClient = new OpenAIClient(new ApiKeyCredential(ApiKey), OpenAIChatClientFactory.CreateClientOptions(scenario.Endpoint));
        using IChatClient client = openAIClient.GetChatClient(DefaultModel).AsIChatClient();

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("All done.", response.Text);
    }

    // -----------------------------------------------------------------------------------------------------------------
    // Streaming
    // -----------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Streaming_UnknownFinishReasonInLastChunk_IsMapped_AndTheStreamAssembles()
    {
        string[] chunks =
        [
            Chunk("""{"role":"assistant","content":"Hel"}"""),
            Chunk("""{"content":"lo"}"""),
            Chunk("{}", "\"eos\""),
            UsageChunk(9),
            "[DONE]",
        ];
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Sse(chunks));
        using var client = NewClient(scenario);

        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "greet")]))
        {
            updates.Add(update);
        }

        Assert.Contains(updates, u => u.FinishReason is not null);
        Assert.All(updates.Where(u => u.FinishReason is not null), u => Assert.Equal(ChatFinishReason.Stop, u.FinishReason));

        ChatResponse response = updates.ToChatResponse();
        Assert.Equal("Hello", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("chatcmpl-fr", response.ResponseId);
        Assert.Equal(9, response.Usage?.TotalTokenCount);
    }

    [Fact]
    public async Task Streaming_UnknownFinishReasonAfterToolCalls_ReportsToolCalls()
    {
        string[] chunks =
        [
            Chunk("""{"role":"assistant","tool_calls":[{"index":0,"id":"call_s","type":"function","function":{"name":"run_code","arguments":"{\"code\":"}}]}"""),
            Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"\"x=1\"}"}}]}"""),
            Chunk("{}", "\"end_turn\""),
            "[DONE]",
        ];
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Sse(chunks));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "go")]).ToChatResponseAsync();

        FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("call_s", call.CallId);
        Assert.Equal("x=1", Assert.IsType<JsonElement>(call.Arguments!["code"]).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task Streaming_KnownFinishReason_PassesThrough()
    {
        string[] chunks = [Chunk("""{"role":"assistant","content":"cut"}"""), Chunk("{}", "\"length\""), "[DONE]"];
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Sse(chunks));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "go")]).ToChatResponseAsync();

        Assert.Equal("cut", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
    }

    [Fact]
    public async Task Streaming_CrLfLinesSplitAcrossNetworkWrites_AreRewritten()
    {
        string wire = string.Concat(
            ": keep-alive comment\r\n\r\n",
            "data: " + Chunk("""{"role":"assistant","content":"Split "}""") + "\r\n\r\n",
            "data:" + Chunk("""{"content":"wörds"}""") + "\r\n\r\n",
            "data: " + Chunk("{}", "\"abort\"") + "\r\n\r\n",
            "data: [DONE]\r\n\r\n");
        byte[] bytes = Encoding.UTF8.GetBytes(wire);
        Scenario scenario = server.NewScenario(async (context, _) =>
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/event-stream";
            // 7-byte pieces, each flushed: lines, CR/LF pairs and a multi-byte character are cut across writes.
            for (int offset = 0; offset < bytes.Length; offset += 7)
            {
                await context.Response.Body.WriteAsync(bytes.AsMemory(offset, Math.Min(7, bytes.Length - offset)));
                await context.Response.Body.FlushAsync();
            }
        });
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "go")]).ToChatResponseAsync();

        Assert.Equal("Split wörds", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }
}
