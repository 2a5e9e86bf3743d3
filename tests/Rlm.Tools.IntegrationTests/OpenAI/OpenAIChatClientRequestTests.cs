using System.ComponentModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.OpenAI;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>Checks the JSON a client from <see cref="OpenAIChatClientFactory"/> puts on the wire.</summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class OpenAIChatClientRequestTests(LoopbackOpenAIServer server)
{
    [Fact]
    public async Task GetResponse_SendsModelRolesAndContents_AndBearerKey()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = NewClient(scenario);

        await client.GetResponseAsync(
        [
            new ChatMessage(ChatRole.System, "You are terse."),
            new ChatMessage(ChatRole.User, "Hello there"),
            new ChatMessage(ChatRole.Assistant, "General Kenobi"),
            new ChatMessage(ChatRole.User, [new TextContent("part one, "), new TextContent("part two")]),
        ]);

        RecordedRequest request = scenario.SingleRequest;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("Bearer " + ApiKey, request.Authorization);

        JsonElement body = request.Json;
        Assert.Equal(DefaultModel, body.GetProperty("model").GetString());
        Assert.True(IsAbsentOrNull(body, "stream") || !body.GetProperty("stream").GetBoolean());
        Assert.True(IsAbsentOrNull(body, "tools"));
        Assert.True(IsAbsentOrNull(body, "tool_choice"));

        JsonElement[] messages = body.GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal(["system", "user", "assistant", "user"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(["You are terse.", "Hello there", "General Kenobi", "part one, part two"], messages.Select(ContentText));
    }

    [Fact]
    public async Task GetResponse_SendsAssistantToolCallsAndToolResults()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = NewClient(scenario);

        await client.GetResponseAsync(
        [
            new ChatMessage(ChatRole.User, "Weather and time in Paris?"),
            new ChatMessage(ChatRole.Assistant,
            [
                new TextContent("Checking both."),
                new FunctionCallContent("call_w", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris", ["days"] = 3 }),
                new FunctionCallContent("call_t", "get_time", new Dictionary<string, object?> { ["tz"] = "Europe/Paris", ["utc"] = false }),
            ]),
            new ChatMessage(ChatRole.Tool,
            [
                new FunctionResultContent("call_w", "sunny, 21C"),
                new FunctionResultContent("call_t", new Dictionary<string, object?> { ["hour"] = 14, ["minute"] = 5 }),
            ]),
            new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call_x", "no_args", null)]),
            new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_x", null)]),
        ]);

        JsonElement[] messages = scenario.SingleRequest.Json.GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal(
            ["user", "assistant", "tool", "tool", "assistant", "tool"],
            messages.Select(m => m.GetProperty("role").GetString()));

        JsonElement assistant = messages[1];
        Assert.Equal("Checking both.", ContentText(assistant));
        JsonElement[] toolCalls = assistant.GetProperty("tool_calls").EnumerateArray().ToArray();
        Assert.Equal(2, toolCalls.Length);
        Assert.Equal(["call_w", "call_t"], toolCalls.Select(c => c.GetProperty("id").GetString()));
        Assert.All(toolCalls, c => Assert.Equal("function", c.GetProperty("type").GetString()));
        Assert.Equal(["get_weather", "get_time"], toolCalls.Select(c => c.GetProperty("function").GetProperty("name").GetString()));
        AssertJsonEqual("""{"city":"Paris","days":3}""", ParseJsonString(toolCalls[0].GetProperty("function").GetProperty("arguments")));
        AssertJsonEqual("""{"tz":"Europe/Paris","utc":false}""", ParseJsonString(toolCalls[1].GetProperty("function").GetProperty("arguments")));

        Assert.Equal("call_w", messages[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("sunny, 21C", ContentText(messages[2]));
        Assert.Equal("call_t", messages[3].GetProperty("tool_call_id").GetString());
        AssertJsonEqual("""{"hour":14,"minute":5}""", JsonDocument.Parse(ContentText(messages[3])).RootElement);

        // Tool calls without text and without arguments: the arguments are still a JSON string.
        JsonElement bareCall = Assert.Single(messages[4].GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("call_x", bareCall.GetProperty("id").GetString());
        Assert.Equal("no_args", bareCall.GetProperty("function").GetProperty("name").GetString());
        Assert.True(ParseJsonString(bareCall.GetProperty("function").GetProperty("arguments")).ValueKind is JsonValueKind.Object or JsonValueKind.Null);
        Assert.Equal("call_x", messages[5].GetProperty("tool_call_id").GetString());
    }

    [Fact]
    public async Task GetResponse_SendsToolDeclarationsAndSamplingOptions()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = NewClient(scenario);

        AIFunction search = AIFunctionFactory.Create(
            ([Description("The query text")] string query, [Description("Max hits")] int limit = 5) => $"{query}:{limit}",
            "search_docs",
            "Searches the document store.");
        AIFunctionDeclaration declaration = AIFunctionFactory.CreateDeclaration(
            "run_code",
            "Runs JavaScript in the sandbox.",
            JsonDocument.Parse("""{"type":"object","properties":{"code":{"type":"string"}},"required":["code"]}""").RootElement);

        await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "go")],
            new ChatOptions
            {
                Tools = [search, declaration],
                ToolMode = ChatToolMode.RequireAny,
                AllowMultipleToolCalls = false,
                MaxOutputTokens = 321,
                Temperature = 0.25f,
                TopP = 0.5f,
                StopSequences = ["END", "STOP"],
                Seed = 42,
                Instructions = "Be brief.",
            });

        JsonElement body = scenario.SingleRequest.Json;

        JsonElement[] tools = body.GetProperty("tools").EnumerateArray().ToArray();
        Assert.Equal(2, tools.Length);
        Assert.All(tools, t => Assert.Equal("function", t.GetProperty("type").GetString()));
        JsonElement searchTool = tools[0].GetProperty("function");
        Assert.Equal("search_docs", searchTool.GetProperty("name").GetString());
        Assert.Equal("Searches the document store.", searchTool.GetProperty("description").GetString());
        AssertSchema(search.JsonSchema, searchTool.GetProperty("parameters"));
        Assert.Equal("The query text", searchTool.GetProperty("parameters").GetProperty("properties").GetProperty("query").GetProperty("description").GetString());
        JsonElement runTool = tools[1].GetProperty("function");
        Assert.Equal("run_code", runTool.GetProperty("name").GetString());
        Assert.Equal("Runs JavaScript in the sandbox.", runTool.GetProperty("description").GetString());
        AssertSchema(JsonDocument.Parse("""{"type":"object","properties":{"code":{"type":"string"}},"required":["code"]}""").RootElement, runTool.GetProperty("parameters"));

        Assert.Equal("required", body.GetProperty("tool_choice").GetString());
        Assert.False(body.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.Equal(321, body.GetProperty("max_completion_tokens").GetInt32());
        Assert.Equal(0.25, body.GetProperty("temperature").GetDouble(), 6);
        Assert.Equal(0.5, body.GetProperty("top_p").GetDouble(), 6);
        Assert.Equal(["END", "STOP"], body.GetProperty("stop").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(42, body.GetProperty("seed").GetInt64());

        // Instructions become a leading system message.
        JsonElement first = body.GetProperty("messages")[0];
        Assert.Equal("system", first.GetProperty("role").GetString());
        Assert.Equal("Be brief.", ContentText(first));
    }

    public static TheoryData<string, string> ToolModes => new()
    {
        { "auto", "\"auto\"" },
        { "none", "\"none\"" },
        { "required", "\"required\"" },
        { "specific", """{"type":"function","function":{"name":"run_code"}}""" },
    };

    [Theory]
    [MemberData(nameof(ToolModes))]
    public async Task GetResponse_MapsToolMode(string mode, string expectedToolChoiceJson)
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = NewClient(scenario);
        ChatToolMode toolMode = mode switch
        {
            "auto" => ChatToolMode.Auto,
            "none" => ChatToolMode.None,
            "required" => ChatToolMode.RequireAny,
            _ => ChatToolMode.RequireSpecific("run_code"),
        };

        await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "go")],
            new ChatOptions
            {
                Tools = [AIFunctionFactory.CreateDeclaration("run_code", "Runs code.", JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement)],
                ToolMode = toolMode,
                AllowMultipleToolCalls = true,
            });

        JsonElement body = scenario.SingleRequest.Json;
        AssertJsonEqual(expectedToolChoiceJson, body.GetProperty("tool_choice"));
        Assert.True(body.GetProperty("parallel_tool_calls").GetBoolean());
    }

    [Fact]
    public async Task GetResponse_WithoutTools_OmitsToolChoiceAndParallelToolCalls()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = NewClient(scenario);

        await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "go")],
            new ChatOptions { ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = true });

        JsonElement body = scenario.SingleRequest.Json;
        Assert.True(IsAbsentOrNull(body, "tools"));
        Assert.True(IsAbsentOrNull(body, "tool_choice"));
        Assert.True(IsAbsentOrNull(body, "parallel_tool_calls"));
        Assert.True(IsAbsentOrNull(body, "max_completion_tokens"));
        Assert.True(IsAbsentOrNull(body, "temperature"));
    }

    [Fact]
    public async Task GetResponse_SendsJsonSchemaResponseFormat()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("{}")));
        using var client = NewClient(scenario);
        JsonElement schema = JsonDocument.Parse("""{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}""").RootElement;

        await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "go")],
            new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "final_answer", "The final answer.") });

        JsonElement format = scenario.SingleRequest.Json.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.Equal("final_answer", format.GetProperty("json_schema").GetProperty("name").GetString());
        AssertSchema(schema, format.GetProperty("json_schema").GetProperty("schema"));
    }

    [Fact]
    public async Task Create_WithoutApiKey_SendsPlaceholderBearer()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        using var client = OpenAIChatClientFactory.Create("local-model", apiKey: null, endpoint: scenario.Endpoint);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]);

        Assert.Equal("ok", response.Text);
        string? authorization = scenario.SingleRequest.Authorization;
        Assert.NotNull(authorization);
        Assert.StartsWith("Bearer ", authorization);
        Assert.True(authorization.Length > "Bearer ".Length);
        Assert.Equal("local-model", scenario.SingleRequest.Json.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Create_AcceptsEndpointWithTrailingSlash()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("ok")));
        var endpoint = new Uri(scenario.Endpoint.AbsoluteUri + "/");
        using var client = OpenAIChatClientFactory.Create("m", ApiKey, endpoint);

        ChatResponse response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]);

        Assert.Equal("ok", response.Text);
        Assert.Equal("/v1/chat/completions", scenario.SingleRequest.Path);
    }

    /// <summary>
    /// The schema sent is the declared one; Microsoft.Extensions.AI.OpenAI may add <c>"additionalProperties": false</c>
    /// (and reorder keywords), which is not compared.
    /// </summary>
    private static void AssertSchema(JsonElement expected, JsonElement actual)
    {
        var withoutAdditional = System.Text.Json.Nodes.JsonNode.Parse(actual.GetRawText())!.AsObject();
        withoutAdditional.Remove("additionalProperties");
        AssertJsonEqual(expected, JsonDocument.Parse(withoutAdditional.ToJsonString()).RootElement);
    }
}
