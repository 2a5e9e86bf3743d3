using Microsoft.Extensions.AI;
using Rlm.Tools.OpenAI;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>
/// A 200 whose body the OpenAI SDK cannot read is an unreadable response (retried as transient), whatever the SDK throws
/// while reading it; only a client's own bug fails at once.
/// </summary>
public sealed class UnreadableResponseTests(LoopbackOpenAIServer server) : IClassFixture<LoopbackOpenAIServer>
{
    private const string UnknownRole = """
        {"id":"x","object":"chat.completion","created":1700000000,"model":"m",
         "choices":[{"index":0,"message":{"role":"wizard","content":"hi"},"finish_reason":"stop"}]}
        """;

    [Theory]
    [InlineData("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[ {{ <html>502 upstream</html>")]
    [InlineData(UnknownRole)]
    public async Task UnreadableBody_ThenAGoodOne_IsRetried_AndTheRunAnswers(string broken)
    {
        int n = 0;
        var scenario = server.NewScenario((context, request) => LoopbackOpenAIServer.Json(Interlocked.Increment(ref n) == 1
            ? broken
            : Cli.CliEndpointTests.FinalCall("TANGO-4471"))(context, request));
        using var client = OpenAIChatClientFactory.Create("m", endpoint: scenario.Endpoint);
        var options = new RlmOptions { ModelRetryBaseDelay = TimeSpan.FromMilliseconds(5), StreamRootResponses = false };

        var result = await new RecursiveLanguageModel(client, options: options).QueryAsync("What is the launch code?", "The launch code is TANGO-4471.");

        Assert.Equal("TANGO-4471", result.Answer);
        Assert.Equal(1, result.Statistics.ModelRetries);
        Assert.Equal(2, scenario.Requests.Count);
    }

    [Fact]
    public async Task UnreadableBody_ReachesTheCallerAsInvalidData_WithTheSdkExceptionInside()
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(UnknownRole));
        using var client = OpenAIChatClientFactory.Create("m", endpoint: scenario.Endpoint);

        // The SDK throws ArgumentOutOfRangeException for the unknown role while reading the body.
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]));

        Assert.IsType<ArgumentOutOfRangeException>(e.InnerException);
        Assert.StartsWith("The response could not be read: ArgumentOutOfRangeException", e.Message, StringComparison.Ordinal);
    }
}
