using System.Text.Json;
using Microsoft.Extensions.AI;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>What a caller gets from canned non-streaming responses (text, ids, usage, tool calls).</summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class OpenAIChatClientResponseTests(LoopbackOpenAIServer server)
{
    [Fact]
    public async Task GetResponse_ParsesTextUsageFinishReasonAndIds()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json("""
            {"id":"chatcmpl-abc123","object":"chat.completion","created":1714000000,"model":"gpt-test-2024",
             "choices":[{"index":0,"message":{"role":"assistant","content":"The answer is 42."},"finish_reason":"length"}],
             "usage":{"prompt_tokens":117,"completion_tokens":29,"total_tokens":146,
                      "prompt_tokens_details":{"cached_tokens":64,"audio_tokens":0},
                      "completion_tokens_details":{"reasoning_tokens":11,"audio_tokens":0}}}
            """));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "question")]);

        Assert.Equal("The answer is 42.", response.Text);
        ChatMessage message = Assert.Single(response.Messages);
        Assert.Equal(ChatRole.Assistant, message.Role);
        Assert.Equal("chatcmpl-abc123", response.ResponseId);
        Assert.Equal("gpt-test-2024", response.ModelId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1714000000), response.CreatedAt);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.IsType<global::OpenAI.Chat.ChatCompletion>(response.RawRepresentation);

        UsageDetails usage = Assert.IsType<UsageDetails>(response.Usage);
        Assert.Equal(117, usage.InputTokenCount);
        Assert.Equal(29, usage.OutputTokenCount);
        Assert.Equal(146, usage.TotalTokenCount);
        Assert.Equal(64, usage.CachedInputTokenCount);
        Assert.Equal(11, usage.ReasoningTokenCount);
    }

    [Fact]
    public async Task GetResponse_WithoutUsageDetails_LeavesCachedAndReasoningCountsUnset()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("plain")));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(3, response.Usage?.InputTokenCount);
        Assert.Equal(2, response.Usage?.OutputTokenCount);
        Assert.Equal(5, response.Usage?.TotalTokenCount);
        Assert.Null(response.Usage?.CachedInputTokenCount);
        Assert.Null(response.Usage?.ReasoningTokenCount);
    }

    [Fact]
    public async Task GetResponse_ParsesParallelToolCallsWithJsonArguments()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json("""
            {"id":"chatcmpl-tools","object":"chat.completion","created":1714000001,"model":"gpt-test-2024",
             "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
               "tool_calls":[
                 {"id":"call_A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"days\":3,\"units\":{\"temp\":\"C\"}}"}},
                 {"id":"call_B","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"UTC\",\"precise\":true,\"offsets\":[1,2]}"}},
                 {"id":"call_C","type":"function","function":{"name":"ping","arguments":"{}"}}
               ]}}],
             "usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}
            """));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(string.Empty, response.Text);
        FunctionCallContent[] calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToArray();
        Assert.Equal(3, calls.Length);
        Assert.Equal(["call_A", "call_B", "call_C"], calls.Select(c => c.CallId));
        Assert.Equal(["get_weather", "get_time", "ping"], calls.Select(c => c.Name));
        Assert.All(calls, c => Assert.Null(c.Exception));
        Assert.All(calls, c => Assert.IsType<global::OpenAI.Chat.ChatToolCall>(c.RawRepresentation));

        IDictionary<string, object?> weatherArgs = calls[0].Arguments!;
        Assert.Equal(["city", "days", "units"], weatherArgs.Keys);
        Assert.Equal("Paris", Assert.IsType<JsonElement>(weatherArgs["city"]).GetString());
        Assert.Equal(3, Assert.IsType<JsonElement>(weatherArgs["days"]).GetInt32());
        Assert.Equal("C", Assert.IsType<JsonElement>(weatherArgs["units"]).GetProperty("temp").GetString());

        IDictionary<string, object?> timeArgs = calls[1].Arguments!;
        Assert.True(Assert.IsType<JsonElement>(timeArgs["precise"]).GetBoolean());
        Assert.Equal([1, 2], Assert.IsType<JsonElement>(timeArgs["offsets"]).EnumerateArray().Select(e => e.GetInt32()));

        Assert.NotNull(calls[2].Arguments);
        Assert.Empty(calls[2].Arguments!);
    }

    [Fact]
    public async Task GetResponse_MalformedToolArguments_DoesNotThrow_AndReportsTheProblem()
    {
        const string broken = "{\"code\": \"let x = 1;\", \"timeout\": ";
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json($$$"""
            {"id":"chatcmpl-bad","object":"chat.completion","created":1714000002,"model":"m",
             "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
               "tool_calls":[
                 {"id":"call_bad","type":"function","function":{"name":"run_code","arguments":{{{JsonSerializer.Serialize(broken)}}}}},
                 {"id":"call_arr","type":"function","function":{"name":"run_code","arguments":"[1,2]"}},
                 {"id":"call_ok","type":"function","function":{"name":"run_code","arguments":"{\"code\":\"1+1\"}"}},
                 {"id":"call_empty","type":"function","function":{"name":"ping","arguments":""}}
               ]}}]}
            """));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        FunctionCallContent[] calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToArray();
        Assert.Equal(4, calls.Length);

        // The call still arrives (so the caller can tell the model its arguments were unreadable), with the parse error.
        FunctionCallContent bad = calls[0];
        Assert.Equal("call_bad", bad.CallId);
        Assert.Equal("run_code", bad.Name);
        Assert.NotNull(bad.Exception);

        FunctionCallContent notAnObject = calls[1];
        Assert.Equal("call_arr", notAnObject.CallId);
        Assert.NotNull(notAnObject.Exception);

        FunctionCallContent ok = calls[2];
        Assert.Null(ok.Exception);
        Assert.Equal("1+1", Assert.IsType<JsonElement>(ok.Arguments!["code"]).GetString());

        // An empty argument string is not JSON either (Microsoft.Extensions.AI.OpenAI reads it as unreadable arguments).
        FunctionCallContent empty = calls[3];
        Assert.Equal("ping", empty.Name);
        Assert.NotNull(empty.Exception);
    }

    [Fact]
    public async Task ToolCallRoundTrip_ResponseCallsAreSentBackAsAssistantToolCalls()
    {
        Scenario first = server.NewScenario(LoopbackOpenAIServer.Json("""
            {"id":"c1","object":"chat.completion","created":1714000003,"model":"m",
             "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
               "tool_calls":[{"id":"call_Z","type":"function","function":{"name":"lookup","arguments":"{\"key\":\"alpha\",\"n\":7}"}}]}}]}
            """));
        using var client = NewClient(first);
        List<ChatMessage> history = [new ChatMessage(ChatRole.User, "look up alpha")];

        ChatResponse response = await client.GetResponseAsync(history);
        history.AddMessages(response);
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_Z", "alpha=1")]));
        await client.GetResponseAsync(history);

        RecordedRequest second = first.Requests[1];
        JsonElement[] messages = second.Json.GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal(["user", "assistant", "tool"], messages.Select(m => m.GetProperty("role").GetString()));
        JsonElement call = Assert.Single(messages[1].GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("call_Z", call.GetProperty("id").GetString());
        Assert.Equal("lookup", call.GetProperty("function").GetProperty("name").GetString());
        AssertJsonEqual("""{"key":"alpha","n":7}""", ParseJsonString(call.GetProperty("function").GetProperty("arguments")));
        Assert.Equal("call_Z", messages[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("alpha=1", ContentText(messages[2]));
    }
}
