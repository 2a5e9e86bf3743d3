using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Middleware;

/// <summary>The middleware honours a request's JSON-schema response format: <c>GetResponseAsync&lt;T&gt;</c> through an RLM run.</summary>
public sealed class RlmChatClientResponseFormatTests
{
    private static readonly ChatOptions s_marked = new() { AdditionalProperties = new() { [RlmChatClient.UseRlmPropertyKey] = true } };

    [Fact]
    public async Task GetResponseAsyncOfT_FinalDeclaresTheRequestSchema_InvalidAnswerRetried_ValueReturned()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("final", new { answer = new { city = "Oslo" } })), // population missing
            _ => TestChatClient.Calls(("final", new { answer = new { city = "Oslo", population = 709_000 } })));
        using var client = new ChatClientBuilder(root).UseRecursiveLanguageModel().Build();

        var response = await client.GetResponseAsync<Town>([new ChatMessage(ChatRole.User, "Which city? Oslo has 709,000 people.")], s_marked);

        Assert.Equal(new Town("Oslo", 709_000), response.Result);
        var result = Assert.IsType<RlmResult>(response.RawRepresentation);
        Assert.Equal(1, result.Statistics.AnswerFormatRetries);
        string error = TestChatClient.LastToolResults(root.Requests[1]).Single();
        Assert.StartsWith("Error: final: the answer does not match the required JSON schema:", error, StringComparison.Ordinal);
        Assert.Contains("population", error, StringComparison.Ordinal);
        var final = Assert.Single(root.Options[0]!.Tools!.OfType<AIFunctionDeclaration>(), t => t.Name == "final");
        var answer = final.JsonSchema.GetProperty("properties").GetProperty("answer");
        Assert.Equal("integer", answer.GetProperty("properties").GetProperty("population").GetProperty("type").GetString());
    }

    [Fact]
    public async Task ResponseFormatSchema_AlwaysInvalid_ThrowsRlmAnswerFormatException_WithTheRawAnswer()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("final", new { answer = "Oslo" })),
            _ => TestChatClient.Calls(("final", new { answer = "still Oslo" })));
        using var client = new ChatClientBuilder(root).UseRecursiveLanguageModel(o => o.RlmOptions = new RlmOptions { MaxAnswerFormatRetries = 1 }).Build();
        var options = s_marked.Clone();
        options.ResponseFormat = ChatResponseFormat.ForJsonSchema<Town>(AIJsonUtilities.DefaultOptions);

        var e = await Assert.ThrowsAsync<RlmAnswerFormatException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Which city?")], options));

        Assert.Equal(2, root.Requests.Count);
        Assert.Equal("\"still Oslo\"", e.RawAnswer);
        Assert.Equal(typeof(JsonElement), e.TargetType);
        Assert.Equal(1, e.Result!.Statistics.AnswerFormatRetries);
    }

    public sealed record Town(string City, int Population);
}
