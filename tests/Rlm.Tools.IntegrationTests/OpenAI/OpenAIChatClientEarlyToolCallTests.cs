using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>
/// Streamed tool calls over the real wire (loopback Kestrel, SSE, the OpenAI SDK and M.E.AI.OpenAI): each call is handed
/// out as soon as its arguments are complete. Proven with signals: the server holds back the rest of the stream until the
/// caller has seen (or run) the first call, which without early calls never happens.
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class OpenAIChatClientEarlyToolCallTests(LoopbackOpenAIServer server)
{
    // A guard against hangs only: a broken client fails the test instead of blocking the run.
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(60);

    private const string Head = "\"id\":\"chatcmpl-early\",\"object\":\"chat.completion.chunk\",\"created\":1714000200,\"model\":\"gpt-early\"";

    private static string Chunk(string delta, string? finishReason = null)
        => "{" + Head + ",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + (finishReason is null ? "null" : $"\"{finishReason}\"") + "}]}";

    private static string CallStart(int index, string id, string name, string arguments = "")
        => Chunk($$$"""{"tool_calls":[{"index":{{{index}}},"id":"{{{id}}}","type":"function","function":{"name":"{{{name}}}","arguments":{{{JsonSerializer.Serialize(arguments)}}}}}]}""");

    private static string CallArguments(int index, string arguments)
        => Chunk($$$"""{"tool_calls":[{"index":{{{index}}},"function":{"arguments":{{{JsonSerializer.Serialize(arguments)}}}}}]}""");

    private static string Usage(int input, int output)
        => "{" + Head + $$$""","choices":[],"usage":{"prompt_tokens":{{{input}}},"completion_tokens":{{{output}}},"total_tokens":{{{input + output}}}}}""";

    /// <summary>Streams <paramref name="steps"/>: a string is one SSE data chunk (flushed), a task is awaited first.</summary>
    private static Func<HttpContext, RecordedRequest, Task> Stream(params object[] steps) => async (context, _) =>
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        foreach (object step in steps)
        {
            if (step is Task wait)
            {
                await wait.WaitAsync(s_guard);
                continue;
            }

            await context.Response.WriteAsync($"data: {step}\n\n");
            await context.Response.Body.FlushAsync();
        }
    };

    [Fact]
    public async Task Each_call_arrives_as_soon_as_its_arguments_are_complete_once_and_in_order()
    {
        var sawFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Scenario scenario = server.NewScenario(Stream(
            Chunk("""{"role":"assistant","content":"Two lookups."}"""),
            CallStart(0, "call_a", "lookup", "{\"key\": \"al"),
            CallArguments(0, "pha\", \"n\": {\"deep\": 1}"), // ends with '}' but the object is still open
            CallArguments(0, "}"),
            sawFirst.Task, // the server goes on only once the caller holds call_a
            CallStart(1, "call_b", "lookup", "{\"key\":\"beta\"}"),
            Chunk("{}", "tool_calls"),
            Usage(40, 12),
            "[DONE]"));
        using var client = NewClient(scenario);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "look up")], new ChatOptions()))
        {
            updates.Add(update);
            if (update.Contents.OfType<FunctionCallContent>().Any(c => c.CallId == "call_a"))
            {
                sawFirst.TrySetResult();
            }
        }

        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(["call_a", "call_b"], calls.Select(c => c.CallId)); // each exactly once, in index order
        Assert.All(calls, c => Assert.Null(c.Exception));
        Assert.Equal("alpha", Assert.IsType<JsonElement>(calls[0].Arguments!["key"]).GetString());
        Assert.Equal(1, Assert.IsType<JsonElement>(calls[0].Arguments!["n"]).GetProperty("deep").GetInt32());
        Assert.Equal("beta", Assert.IsType<JsonElement>(calls[1].Arguments!["key"]).GetString());
        // Both came in the SDK updates that completed them, not in M.E.AI's closing update.
        Assert.All(updates.Where(u => u.Contents.OfType<FunctionCallContent>().Any()),
            u => Assert.IsType<global::OpenAI.Chat.StreamingChatCompletionUpdate>(u.RawRepresentation));

        ChatResponse combined = updates.ToChatResponse();
        ChatMessage message = Assert.Single(combined.Messages);
        Assert.Equal("Two lookups.", message.Text);
        Assert.Equal(["call_a", "call_b"], message.Contents.OfType<FunctionCallContent>().Select(c => c.CallId));
        Assert.Equal(ChatFinishReason.ToolCalls, combined.FinishReason);
        Assert.Equal(52, combined.Usage?.TotalTokenCount);
    }

    [Fact]
    public async Task Malformed_or_empty_arguments_are_left_to_the_closing_update_and_hold_back_later_calls()
    {
        Scenario scenario = server.NewScenario(Stream(
            CallStart(0, "call_bad", "run_code", "{\"code\": \"x"),
            CallArguments(0, "+1"),
            CallStart(1, "call_ok", "lookup", "{\"key\":\"k\"}"),
            Chunk("{}", "tool_calls"),
            "[DONE]"));
        using var client = NewClient(scenario);

        var updates = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "go")], new ChatOptions()).ToListAsync();

        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(["call_bad", "call_ok"], calls.Select(c => c.CallId));
        Assert.NotNull(calls[0].Exception);
        Assert.Null(calls[1].Exception);
        Assert.Same(updates[^1], updates.Single(u => u.Contents.OfType<FunctionCallContent>().Any())); // both at the end, in order
    }

    [Fact]
    public async Task The_engine_runs_a_call_over_the_wire_while_the_reply_still_streams()
    {
        var probeRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = AIFunctionFactory.Create((string id) => { probeRan.TrySetResult(); return $"probe {id}"; }, "probe");
        int requests = 0;
        var first = Stream(
            CallStart(0, "call_p", "probe", "{\"id\":\"p1\"}"),
            probeRan.Task, // the rest of the reply waits until the engine has run probe(p1)
            CallStart(1, "call_q", "probe", "{\"id\":\"q2\"}"),
            Chunk("{}", "tool_calls"),
            Usage(100, 10),
            "[DONE]");
        var second = Stream(
            CallStart(0, "call_f", "final", "{\"answer\":\"wire ok\"}"),
            Chunk("{}", "tool_calls"),
            Usage(120, 5),
            "[DONE]");
        Scenario scenario = server.NewScenario((context, request) => Interlocked.Increment(ref requests) == 1 ? first(context, request) : second(context, request));
        using var client = NewClient(scenario);

        var result = await new RecursiveLanguageModel(client, options: new RlmOptions { Tools = [probe] }).QueryAsync("q?", "ctx");

        Assert.Equal("wire ok", result.Answer);
        Assert.Equal(220, result.Usage.InputTokenCount);
        Assert.Equal(15, result.Usage.OutputTokenCount);
        Assert.Equal(2, result.Statistics.ToolCalls["probe"]);
        var toolMessage = scenario.Requests[1].Json.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "tool").ToList();
        Assert.Equal(["call_p", "call_q"], toolMessage.Select(m => m.GetProperty("tool_call_id").GetString()));
        Assert.Equal(["probe p1", "probe q2"], toolMessage.Select(ContentText));
        Assert.True(scenario.Requests[0].Json.GetProperty("stream").GetBoolean());
    }

    private static string JsonCompletion(string id, string name, string arguments, string? content = null) => $$$"""
        {"id":"chatcmpl-json","object":"chat.completion","created":1700000000,"model":"json-only","system_fingerprint":"fp_1",
         "choices":[{"index":0,"message":{"role":"assistant","content":{{{JsonSerializer.Serialize(content)}}},"tool_calls":[{"id":"{{{id}}}","type":"function","function":{"name":"{{{name}}}","arguments":{{{JsonSerializer.Serialize(arguments)}}}}}]},"finish_reason":"tool_calls"}],
         "usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}
        """;

    [Fact]
    public async Task A_plain_json_answer_to_a_streaming_request_is_read_as_the_equivalent_stream()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(JsonCompletion("call_j", "lookup", "{\"key\":\"k1\"}", content: "Checking.")));
        using var client = NewClient(scenario);

        ChatResponse response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "go")], new ChatOptions()).ToChatResponseAsync();

        Assert.True(scenario.SingleRequest.Json.GetProperty("stream").GetBoolean());
        Assert.Equal("Checking.", response.Text);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("call_j", call.CallId);
        Assert.Equal("k1", Assert.IsType<JsonElement>(call.Arguments!["key"]).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(12, response.Usage?.TotalTokenCount);
        Assert.Equal("json-only", response.ModelId);
    }

    [Fact]
    public async Task The_engine_over_a_server_that_ignores_stream_sends_one_request_per_reply()
    {
        int requests = 0;
        Scenario scenario = server.NewScenario((context, request) => Interlocked.Increment(ref requests) == 1
            ? LoopbackOpenAIServer.Json(JsonCompletion("call_g", "grep", "{\"pattern\":\"needle\"}"))(context, request)
            : LoopbackOpenAIServer.Json(JsonCompletion("call_f", "final", "{\"answer\":\"json ok\"}"))(context, request));
        using var client = NewClient(scenario);

        var result = await new RecursiveLanguageModel(client).QueryAsync("q?", "a needle here");

        Assert.Equal("json ok", result.Answer);
        Assert.Equal(2, scenario.Requests.Count);
        Assert.Equal(20, result.Usage.InputTokenCount); // both replies' usage, read from the converted streams
        Assert.Equal(0, result.Statistics.ModelRetries);
        Assert.Equal(1, result.Statistics.ToolCalls["grep"]);
    }
}
