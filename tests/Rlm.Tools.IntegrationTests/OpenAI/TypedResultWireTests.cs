using System.Text.Json;
using Microsoft.AspNetCore.Http;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>
/// A typed query whose root model is the official OpenAI client against the loopback server: the request's <c>final</c>
/// tool declares the answer's schema, an answer that does not fit goes back as a tool error, and a fitting one is the value.
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class TypedResultWireTests(LoopbackOpenAIServer server)
{
    private static string ToolCall(int step, string name, string arguments) => ToolCallCompletion(step, name, arguments, "gpt-4.1-2025-04-14");

    [Fact]
    public async Task TypedQuery_FinalDeclaresTheSchema_InvalidAnswerIsRetried_ValidAnswerIsTheValue()
    {
        int step = 0;
        var scenario = server.NewScenario(async (context, _) =>
        {
            int n = Interlocked.Increment(ref step);
            string body = n switch
            {
                1 => ToolCall(1, "final", """{"answer":{"errors":"two","firstLine":2}}"""),
                _ => ToolCall(2, "final", """{"answer":{"errors":2,"firstLine":2}}"""),
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        using var root = NewClient(scenario, "gpt-4.1");
        string text = "INFO start\nERROR disk full\nINFO retry\nERROR disk full again\n";

        var result = await new RecursiveLanguageModel(root, options: new RlmOptions { RootModelId = "gpt-4.1", MaxModelRetries = 0 })
            .QueryAsync<ErrorCount>("How many errors, and the first one's line?", text);

        Assert.Equal(new ErrorCount(2, 2), result.Value);
        Assert.Equal(1, result.Statistics.AnswerFormatRetries);
        Assert.Equal(2, scenario.Requests.Count);

        // On the wire: final's answer parameter is ErrorCount's schema (camelCase, integers, no additional properties).
        var final = scenario.Requests[0].Json.GetProperty("tools").EnumerateArray()
            .Single(t => t.GetProperty("function").GetProperty("name").GetString() == "final").GetProperty("function");
        var answer = final.GetProperty("parameters").GetProperty("properties").GetProperty("answer");
        Assert.Equal("object", answer.GetProperty("type").GetString());
        Assert.Equal("integer", answer.GetProperty("properties").GetProperty("errors").GetProperty("type").GetString());
        Assert.Equal("integer", answer.GetProperty("properties").GetProperty("firstLine").GetProperty("type").GetString());
        Assert.False(answer.GetProperty("additionalProperties").GetBoolean());

        // The second request carries the first answer's error as final's tool result.
        var toolMessage = scenario.Requests[1].Json.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("role").GetString() == "tool");
        Assert.Contains("the answer does not match the required JSON schema", ContentText(toolMessage), StringComparison.Ordinal);
    }

    public sealed record ErrorCount(int Errors, int FirstLine);
}
