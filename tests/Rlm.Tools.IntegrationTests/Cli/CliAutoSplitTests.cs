using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>--auto-split</c>: a real <c>rlm</c> process against a loopback server. The worker is gpt-4o-mini (a 128,000-token
/// window in the dated defaults); the root asks about a slice over it, which reaches the server in parts that each fit.
/// </summary>
public sealed class CliAutoSplitTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    private static readonly Tokenizer s_tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnOversizedSlice_ReachesTheWorkerInParts_OnlyWithAutoSplit(bool autoSplit)
    {
        var log = new StringBuilder();
        for (int i = 0; log.Length < 390_000; i++)
        {
            log.Append(CultureInfo.InvariantCulture, $"2025-01-01 10:{i % 60:00}:{i % 59:00} node-{i % 13} req={i} status={200 + (i % 7)} ms={i % 997}\n");
        }

        string context = log.ToString();
        Assert.True(s_tokenizer.CountTokens(context) > 128_000, "the context must be over the worker's window");
        var scenario = server.NewScenario(async (http, request) =>
        {
            var body = request.Json;
            string model = body.GetProperty("model").GetString()!;
            bool toolResultsBack = body.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
            string reply = model switch
            {
                "root-m" when !toolResultsBack => SubLlmCall(context.Length),
                "root-m" => CliEndpointTests.FinalCall("read"),
                _ => LoopbackOpenAIServer.TextCompletion("a part's answer", model),
            };
            await LoopbackOpenAIServer.Json(reply)(http, request);
        });

        string[] args = ["What happened?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--model", "root-m", "--worker-model", "gpt-4o-mini", "--json"];
        var result = await RlmProcess.RunAsync(autoSplit ? [.. args, "--auto-split"] : args, stdin: context);

        output.WriteLine(result.ToString()[..Math.Min(4_000, result.ToString().Length)]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var parts = scenario.Requests.Where(r => r.Json.GetProperty("model").GetString() == "gpt-4o-mini").ToList();
        var rootAgain = scenario.Requests.Last(r => r.Json.GetProperty("model").GetString() == "root-m");
        string toolResult = rootAgain.Json.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "tool")
            .Select(OpenAITestHelpers.ContentText).Single();
        if (!autoSplit)
        {
            Assert.Empty(parts);
            Assert.Contains("The largest slice that fits has about", toolResult, StringComparison.Ordinal);
            return;
        }

        Assert.InRange(parts.Count, 2, 4);
        Assert.All(parts, p => Assert.InRange(
            p.Json.GetProperty("messages").EnumerateArray().Sum(m => s_tokenizer.CountTokens(OpenAITestHelpers.ContentText(m)) + 4), 1, 128_000 - 4_096));
        Assert.Contains($"[part 1/{parts.Count}, lines 1–", toolResult, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal(parts.Count, json.RootElement.GetProperty("statistics").GetProperty("sub_calls").GetInt32());
    }

    [Fact]
    public async Task Help_ListsAutoSplit_ForRlmChatAndMcp()
    {
        foreach (string[] args in new[] { new[] { "--help" }, ["chat", "--help"], ["mcp", "--help"] })
        {
            var result = await RlmProcess.RunAsync(args);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("--auto-split", result.StdOut, StringComparison.Ordinal);
        }
    }

    private static string SubLlmCall(int end)
    {
        string arguments = JsonSerializer.Serialize(JsonSerializer.Serialize(new { query = "What happened?", start = 0, end }));
        return "{\"id\":\"chatcmpl-sub\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"root-m\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_s\",\"type\":\"function\",\"function\":{\"name\":\"sub_llm\",\"arguments\":" + arguments + "}}]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }
}
