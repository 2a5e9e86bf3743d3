using Microsoft.Extensions.AI;
using Rlm.Tools.Middleware;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Middleware;

/// <summary>A run that ends without an answer (a budget stop): the middleware's reply says why instead of being empty.</summary>
public sealed class RlmChatClientStopMessageTests
{
    private static TestChatClient ToolsOnly() => new()
    {
        GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Calls(new UsageDetails { InputTokenCount = 600, OutputTokenCount = 10 }, ("peek", new { start = 0, end = 10 }))),
    };

    private static ChatOptions Marked() => new() { AdditionalProperties = new() { [RlmChatClient.UseRlmPropertyKey] = true } };

    [Fact]
    public async Task BudgetStopWithoutAnswer_ResponseTextIsTheStopMessage()
    {
        using var client = new ChatClientBuilder(ToolsOnly()).UseRecursiveLanguageModel(o => o.RlmOptions = new RlmOptions { MaxTotalTokens = 1_000 }).Build();

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Which line says hello?")], Marked());

        var result = Assert.IsType<RlmResult>(response.RawRepresentation);
        Assert.Equal(RlmStopReason.TokenBudget, result.StopReason);
        Assert.Equal("", result.Answer);
        Assert.Equal(result.StopMessage, response.Text);
        Assert.Contains("token budget", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BudgetStopWithoutAnswer_Streamed_TheLastUpdateCarriesTheStopMessage()
    {
        using var client = new ChatClientBuilder(ToolsOnly()).UseRecursiveLanguageModel(o =>
        {
            o.RlmOptions = new RlmOptions { MaxTotalTokens = 1_000 };
            o.StreamProgress = false;
        }).Build();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Which line says hello?")], Marked()))
        {
            updates.Add(update);
        }

        Assert.Contains("token budget", updates.ToChatResponse().Text, StringComparison.Ordinal);
    }
}
