using System.Globalization;
using System.Text;
using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// A real <c>rlm -v --max-tokens</c> process against a loopback server: the root asks for three sub-calls at once whose
/// estimate is over the token budget; none reaches the server, and the progress on stderr shows the refusal.
/// </summary>
public sealed class CliSubCallBatchTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    [Fact]
    public async Task ABatchOverTheTokenBudget_IsRefused_AndRlmVShowsIt()
    {
        var log = new StringBuilder();
        for (int i = 0; log.Length < 16_000; i++)
        {
            log.Append(CultureInfo.InvariantCulture, $"2025-01-01 10:{i % 60:00}:00 node-{i % 13} req={i} status={200 + (i % 7)}\n");
        }

        var scenario = server.NewScenario(async (http, request) =>
        {
            var body = request.Json;
            string model = body.GetProperty("model").GetString()!;
            bool toolResultsBack = body.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
            string reply = model switch
            {
                "root-m" when !toolResultsBack => SubLlmCalls(3, 5_000),
                "root-m" => CliEndpointTests.FinalCall("answered from the root"),
                _ => LoopbackOpenAIServer.TextCompletion("never", model),
            };
            await LoopbackOpenAIServer.Json(reply)(http, request);
        });

        var result = await RlmProcess.RunAsync(
            ["Which requests failed?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--model", "root-m", "--worker-model", "plain-m", "--max-tokens", "8000", "-v"],
            stdin: log.ToString());

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain(scenario.Requests, r => r.Json.GetProperty("model").GetString() == "plain-m");
        Assert.Contains("sub-call batch refused (depth=0): 3 sub-calls estimated at ", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("Sub-calls: 0 (0 failed, 1 batch refused)", result.StdErr, StringComparison.Ordinal); // the statistics line
        Assert.Equal("answered from the root", result.StdOut.Trim());
    }

    private static string SubLlmCalls(int count, int size)
    {
        var toolCalls = Enumerable.Range(0, count).Select(i =>
        {
            string arguments = JsonSerializer.Serialize(JsonSerializer.Serialize(new { query = $"Failures in part {i}?", start = i * size, end = (i + 1) * size }));
            return "{\"id\":\"call_b" + i + "\",\"type\":\"function\",\"function\":{\"name\":\"sub_llm\",\"arguments\":" + arguments + "}}";
        });
        return "{\"id\":\"chatcmpl-batch\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"root-m\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" + string.Join(",", toolCalls) + "]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }
}
