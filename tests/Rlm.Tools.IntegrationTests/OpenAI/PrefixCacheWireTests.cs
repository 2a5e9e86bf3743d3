using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>
/// A run whose root model is the official OpenAI client against the loopback server: each request on the wire extends the
/// previous one, and the provider's <c>prompt_tokens_details.cached_tokens</c> reach the result, its cost and the trajectory.
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class PrefixCacheWireTests(LoopbackOpenAIServer server)
{
    private static string ToolCall(int step, string name, string arguments) =>
        ToolCallCompletion(step, name, arguments, "gpt-4.1-2025-04-14", promptTokens: 1000 * step, cachedTokens: (step - 1) * 1000);

    [Fact]
    public async Task EachRequestExtendsThePrevious_CachedTokensAreCountedAndPriced()
    {
        int step = 0;
        var scenario = server.NewScenario(async (context, _) =>
        {
            int n = Interlocked.Increment(ref step);
            string body = n switch
            {
                1 => ToolCall(1, "grep", """{"pattern":"ERROR"}"""),
                2 => ToolCall(2, "peek", """{"start":0,"end":200}"""),
                3 => ToolCall(3, "set_variable", """{"name":"notes","value":"two errors"}"""),
                _ => ToolCall(4, "final", """{"answer":"two errors"}"""),
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        using var root = NewClient(scenario, "gpt-4.1");
        string context = "INFO start\nERROR disk full\nINFO retry\nERROR disk full again\n";

        var result = await new RecursiveLanguageModel(root, options: new RlmOptions { RootModelId = "gpt-4.1", MaxModelRetries = 0 })
            .QueryAsync("How many errors?", context);

        Assert.Equal("two errors", result.Answer);
        Assert.Equal(4, scenario.Requests.Count);

        // On the wire: every request's messages start with all of the previous request's messages, unchanged.
        for (int i = 1; i < scenario.Requests.Count; i++)
        {
            var previous = scenario.Requests[i - 1].Json.GetProperty("messages").EnumerateArray().ToList();
            var current = scenario.Requests[i].Json.GetProperty("messages").EnumerateArray().ToList();
            Assert.True(current.Count > previous.Count);
            for (int m = 0; m < previous.Count; m++)
            {
                AssertJsonEqual(previous[m], current[m]);
            }
        }

        // cached_tokens 0 + 1000 + 2000 + 3000; input 1000 + 2000 + 3000 + 4000.
        Assert.Equal(6_000, result.Usage.CachedInputTokenCount);
        Assert.Equal(10_000, result.Usage.InputTokenCount);
        decimal expected = (4_000 * 2m + 6_000 * 0.50m + 80 * 8m) / 1_000_000m; // gpt-4.1: $2 input, $0.50 cached, $8 output per 1M
        Assert.Equal(expected, result.CostUsd);

        using var stream = new MemoryStream();
        RlmTrajectoryWriter.WriteJsonLines(result, stream);
        string jsonl = Encoding.UTF8.GetString(stream.ToArray());
        Assert.Contains("\"usage\":{\"input_tokens\":10000,\"cached_input_tokens\":6000,", jsonl, StringComparison.Ordinal);
        Assert.Contains("\"cached_input_tokens\":3000", jsonl, StringComparison.Ordinal); // the last model call's node
    }
}
