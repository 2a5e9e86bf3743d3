using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>A real <c>rlm</c> process against a loopback endpoint whose root model sends more calls in one reply than run.</summary>
public sealed class CliModelOutputBoundsTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    private const string FakeKey = "sk-test-CLI-bounds-0a1b2c3d4e5f";

    [Fact]
    public async Task ReplyWith40Calls_32Run_8GetErrorResults_TheRunAnswers_AndTheCountsAreShown()
    {
        string[]? secondRequestResults = null;
        var scenario = server.NewScenario(async (context, request) =>
        {
            var messages = request.Json.GetProperty("messages").EnumerateArray().ToList();
            var tools = messages.Where(m => m.GetProperty("role").GetString() == "tool").ToList();
            if (tools.Count == 0)
            {
                await LoopbackOpenAIServer.Json(PeekCalls(40))(context, request);
                return;
            }

            secondRequestResults ??= [.. tools.Select(t => t.GetProperty("content").ToString())];
            await LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall("The code is TANGO-4471."))(context, request);
        });
        var environment = new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey };

        var verbose = await RlmProcess.RunAsync(["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "-v"], stdin: "The launch code is TANGO-4471.\n", environment: environment);
        var json = await RlmProcess.RunAsync(["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--json"], stdin: "The launch code is TANGO-4471.\n", environment: environment);

        output.WriteLine(verbose.ToString());
        Assert.True(verbose.ExitCode == 0, verbose.ToString());
        Assert.Equal("The code is TANGO-4471.", verbose.StdOut.TrimEnd());
        Assert.Contains("Bounds: 8 function calls not run (over the per-reply cap)", verbose.StdErr, StringComparison.Ordinal);
        Assert.NotNull(secondRequestResults);
        Assert.Equal(40, secondRequestResults.Length); // every call id got its result on the wire
        Assert.Equal(8, secondRequestResults.Count(r => r.StartsWith("Error: not run: a reply may make at most 32 function calls", StringComparison.Ordinal)));

        Assert.True(json.ExitCode == 0, json.ToString());
        var statistics = JsonDocument.Parse(json.StdOut).RootElement.GetProperty("statistics");
        Assert.Equal(8, statistics.GetProperty("refused_function_calls").GetInt32());
        Assert.Equal(32, statistics.GetProperty("tool_calls").GetProperty("peek_lines").GetInt32());
        Assert.Equal(0, statistics.GetProperty("dropped_trace_nodes").GetInt32());
    }

    private static string PeekCalls(int count)
    {
        var calls = Enumerable.Range(0, count).Select(i =>
            "{\"id\":\"call_p" + i + "\",\"type\":\"function\",\"function\":{\"name\":\"peek_lines\",\"arguments\":" +
            JsonSerializer.Serialize(JsonSerializer.Serialize(new { start = 1, count = 1 })) + "}}");
        return "{\"id\":\"chatcmpl-peek\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"server-model\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" + string.Join(",", calls) + "]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }
}
