using System.Text.Json;
using Microsoft.Extensions.AI;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>What a caller gets from canned server-sent-event streams.</summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class OpenAIChatClientStreamingTests(LoopbackOpenAIServer server)
{
    private const string Head = "\"id\":\"chatcmpl-stream1\",\"object\":\"chat.completion.chunk\",\"created\":1714000100,\"model\":\"gpt-stream-test\"";

    private static string Chunk(string delta, string? finishReason = null)
        => "{" + Head + ",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + (finishReason is null ? "null" : $"\"{finishReason}\"") + "}]}";

    [Fact]
    public async Task Streaming_AssemblesTextToolCallFragmentsUsageAndFinishReason()
    {
        string[] chunks =
        [
            Chunk("""{"role":"assistant","content":""}"""),
            Chunk("""{"content":"Let me "}"""),
            Chunk("""{"content":"check."}"""),
            // Two parallel calls; ids and names come first, argument JSON is split mid-token and interleaved.
            Chunk("""{"tool_calls":[{"index":0,"id":"call_one","type":"function","function":{"name":"get_weather","arguments":""}}]}"""),
            Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}"""),
            Chunk("""{"tool_calls":[{"index":1,"id":"call_two","type":"function","function":{"name":"get_time","arguments":"{\"tz\":"}}]}"""),
            Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"ty\": \"Par"}}]}"""),
            Chunk("""{"tool_calls":[{"index":1,"function":{"arguments":"\"UTC\"}"}}]}"""),
            Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"is\", \"days\": 2}"}}]}"""),
            Chunk("{}", "tool_calls"),
            "{" + Head + ""","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":25,"total_tokens":75,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":4}}}""",
            "[DONE]",
        ];
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Sse(chunks));
        using var client = NewClient(scenario);

        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "weather?")]))
        {
            updates.Add(update);
        }

        // Request: stream flag and usage requested.
        JsonElement body = scenario.SingleRequest.Json;
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(DefaultModel, body.GetProperty("model").GetString());

        // Text deltas arrive as separate updates, in order.
        Assert.Equal(["Let me ", "check."], updates.Where(u => u.Text.Length > 0).Select(u => u.Text));

        // Tool calls are emitted exactly once, complete, as soon as their arguments are whole and in index order: call_two
        // is complete first but waits for call_one, so both come in the update that completed call_one.
        FunctionCallContent[] calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToArray();
        Assert.Equal(2, calls.Length);
        ChatResponseUpdate withCalls = Assert.Single(updates, u => u.Contents.OfType<FunctionCallContent>().Any());
        Assert.Equal(calls, withCalls.Contents.OfType<FunctionCallContent>());
        Assert.IsType<global::OpenAI.Chat.StreamingChatCompletionUpdate>(withCalls.RawRepresentation);
        ChatResponseUpdate last = updates[^1];
        Assert.Empty(last.Contents.OfType<FunctionCallContent>());
        Assert.Equal(["call_one", "call_two"], calls.Select(c => c.CallId));
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.Name));
        Assert.All(calls, c => Assert.Null(c.Exception));
        Assert.Equal("Paris", Assert.IsType<JsonElement>(calls[0].Arguments!["city"]).GetString());
        Assert.Equal(2, Assert.IsType<JsonElement>(calls[0].Arguments!["days"]).GetInt32());
        Assert.Equal("UTC", Assert.IsType<JsonElement>(calls[1].Arguments!["tz"]).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, last.FinishReason);
        Assert.Equal("chatcmpl-stream1", last.ResponseId);
        Assert.Equal("gpt-stream-test", last.ModelId);

        // Usage from the final, choice-less chunk.
        UsageDetails usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(50, usage.InputTokenCount);
        Assert.Equal(25, usage.OutputTokenCount);
        Assert.Equal(75, usage.TotalTokenCount);
        Assert.Equal(8, usage.CachedInputTokenCount);
        Assert.Equal(4, usage.ReasoningTokenCount);

        Assert.All(updates.Take(updates.Count - 1), u => Assert.IsType<global::OpenAI.Chat.StreamingChatCompletionUpdate>(u.RawRepresentation));

        // The updates coalesce into one assistant message with the text and both calls.
        ChatResponse combined = updates.ToChatResponse();
        Assert.Equal("Let me check.", combined.Text);
        Assert.Equal(ChatFinishReason.ToolCalls, combined.FinishReason);
        Assert.Equal("gpt-stream-test", combined.ModelId);
        Assert.Equal(75, combined.Usage?.TotalTokenCount);
        ChatMessage message = Assert.Single(combined.Messages);
        Assert.Equal(ChatRole.Assistant, message.Role);
        Assert.Equal(2, message.Contents.OfType<FunctionCallContent>().Count());
    }

    [Fact]
    public async Task Streaming_TextOnly_YieldsDeltasAndStopReason()
    {
        string[] chunks =
        [
            Chunk("""{"role":"assistant","content":"Hel"}"""),
            Chunk("""{"content":"lo, "}"""),
            Chunk("""{"content":"world"}"""),
            Chunk("{}", "stop"),
            "{" + Head + ""","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}""",
            "[DONE]",
        ];
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Sse(chunks));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetStreamingResponseAsync(
            [new ChatMessage(ChatRole.User, "greet")],
            new ChatOptions { MaxOutputTokens = 64 }).ToChatResponseAsync();

        Assert.Equal("Hello, world", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("chatcmpl-stream1", response.ResponseId);
        Assert.Equal(7, response.Usage?.TotalTokenCount);
        Assert.Empty(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal(64, scenario.SingleRequest.Json.GetProperty("max_completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Streaming_MalformedToolArguments_DoesNotThrow()
    {
        string[] chunks =
        [
            Chunk("""{"role":"assistant","tool_calls":[{"index":0,"id":"call_q","type":"function","function":{"name":"run_code","arguments":"{\"code\": \"x"}}]}"""),
            Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"+1"}}]}"""),
            Chunk("{}", "tool_calls"),
            "[DONE]",
        ];
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Sse(chunks));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "go")]).ToChatResponseAsync();

        FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("call_q", call.CallId);
        Assert.NotNull(call.Exception);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }
}
