using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>--worker NAME=MODEL</c>: a real <c>rlm</c> process against a loopback OpenAI-compatible server. The root routes
/// one sub-call to each named worker and one to the default; the server sees each request with the model id meant for it.
/// </summary>
public sealed class CliWorkerTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    private const string Context = "The launch code is TANGO-4471.\nThe backup code is ECHO-9.\n";

    [Fact]
    public async Task NamedWorkers_RequestsArriveWithTheirModelIds_AndTheDefaultWorkerKeepsItsOwn()
    {
        var scenario = server.NewScenario(async (context, request) =>
        {
            var body = request.Json;
            string model = body.GetProperty("model").GetString()!;
            bool toolResultsBack = body.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
            string reply = model switch
            {
                "root-m" when !toolResultsBack => SubLlmCalls(("Q-fast", "fast"), ("Q-big", "big"), ("Q-default", null)),
                "root-m" => CliEndpointTests.FinalCall("TANGO-4471"),
                _ => LoopbackOpenAIServer.TextCompletion($"answer from {model}", model),
            };
            await LoopbackOpenAIServer.Json(reply)(context, request);
        });

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--model", "root-m", "--worker-model", "plain-m",
             "--worker", "fast=fast-m", "--worker", "big=big-m", "--json"],
            stdin: Context);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        var byModel = scenario.Requests.GroupBy(r => r.Json.GetProperty("model").GetString()!).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(["big-m", "fast-m", "plain-m", "root-m"], byModel.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("Q-fast", Assert.Single(byModel["fast-m"]).Body, StringComparison.Ordinal);
        Assert.Contains("Q-big", Assert.Single(byModel["big-m"]).Body, StringComparison.Ordinal);
        Assert.Contains("Q-default", Assert.Single(byModel["plain-m"]).Body, StringComparison.Ordinal);

        // The root was told the names: sub_llm declares model as an enum of them.
        var subLlm = byModel["root-m"][0].Json.GetProperty("tools").EnumerateArray()
            .Single(t => t.GetProperty("function").GetProperty("name").GetString() == "sub_llm");
        var names = subLlm.GetProperty("function").GetProperty("parameters").GetProperty("properties").GetProperty("model").GetProperty("enum");
        Assert.Equal(["fast", "big"], names.EnumerateArray().Select(e => e.GetString()));

        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal("TANGO-4471", json.RootElement.GetProperty("answer").GetString());
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("=gpt-4.1")]
    [InlineData("fast=")]
    [InlineData("fa st=gpt-4.1")]
    public async Task BadWorkerValue_IsAOneLineUsageError_NothingSent(string value)
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("never")));

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--worker", value],
            stdin: Context);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, "--worker takes NAME=MODEL");
        Assert.Empty(scenario.Requests);
    }

    [Fact]
    public async Task WorkerNamedTwice_IsAUsageError()
    {
        var result = await RlmProcess.RunAsync(["q?", "--stdin", "--offline", "--worker", "a=m1", "--worker", "a=m2"], stdin: Context);

        RlmProcess.AssertUsageError(result, "'a' is given twice");
    }

    [Fact]
    public async Task Help_ListsTheWorkerOption_ForRlmChatAndMcp()
    {
        foreach (string[] args in new[] { new[] { "--help" }, ["chat", "--help"], ["mcp", "--help"] })
        {
            var result = await RlmProcess.RunAsync(args);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("--worker <NAME=MODEL>", result.StdOut, StringComparison.Ordinal);
        }
    }

    /// <summary>A root reply with one <c>sub_llm</c> call per (query, worker) over the whole context; a null worker names none.</summary>
    private static string SubLlmCalls(params (string Query, string? Worker)[] calls)
    {
        var toolCalls = calls.Select((c, i) =>
        {
            object args = c.Worker is null ? new { query = c.Query, start = 0, end = 60 } : new { query = c.Query, start = 0, end = 60, model = c.Worker };
            string arguments = JsonSerializer.Serialize(JsonSerializer.Serialize(args));
            return "{\"id\":\"call_s" + i + "\",\"type\":\"function\",\"function\":{\"name\":\"sub_llm\",\"arguments\":" + arguments + "}}";
        });
        return "{\"id\":\"chatcmpl-sub\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"root-m\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" + string.Join(",", toolCalls) + "]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }
}
