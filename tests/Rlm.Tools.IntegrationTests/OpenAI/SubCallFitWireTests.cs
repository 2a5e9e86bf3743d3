using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.ML.Tokenizers;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>
/// Root and worker are the official OpenAI client against the loopback server; the worker's id (from the client) has a
/// 2,000-token window. A slice over it never reaches the worker's endpoint; one that fits does, and the server counts it.
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class SubCallFitWireTests(LoopbackOpenAIServer server)
{
    private static readonly Tokenizer s_tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");

    private static string ToolCall(int step, string name, string arguments) => ToolCallCompletion(step, name, arguments, "gpt-4.1", completionTokens: 10);

    private static string Text(string text) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-w",
        @object = "chat.completion",
        created = 1700000000,
        model = "tiny-worker",
        choices = new[] { new { index = 0, finish_reason = "stop", message = new { role = "assistant", content = text } } },
        usage = new { prompt_tokens = 100, completion_tokens = 5, total_tokens = 105 },
    });

    [Fact]
    public async Task OversizedSlice_NeverReachesTheWorkerEndpoint_AFittingOneDoes()
    {
        var log = new StringBuilder();
        for (int i = 0; log.Length < 40_000; i++)
        {
            log.Append(CultureInfo.InvariantCulture, $"2025-01-01 10:{i % 60:00}:00 worker {i % 7} handled request {i} in {i % 113} ms\n");
        }

        int step = 0;
        var rootScenario = server.NewScenario(async (context, _) =>
        {
            string body = Interlocked.Increment(ref step) switch
            {
                1 => ToolCall(1, "sub_llm", """{"query":"What happened?","start":0,"end":40000}"""),
                2 => ToolCall(2, "sub_llm", """{"query":"What happened?","start":0,"end":2000}"""),
                _ => ToolCall(3, "final", """{"answer":"done"}"""),
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        var workerScenario = server.NewScenario(async (context, _) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Text("requests were handled"));
        });
        using var root = NewClient(rootScenario, "gpt-4.1");
        using var worker = NewClient(workerScenario, "tiny-worker");
        var options = new RlmOptions { RootModelId = "gpt-4.1", MaxModelRetries = 0, StreamRootResponses = false, SubCallOutputReserveTokens = 500 };
        options.ModelContextWindows["tiny-worker"] = 2_000;

        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("What happened?", log.ToString());

        Assert.Equal("done", result.Answer);
        var seen = Assert.Single(workerScenario.Requests);
        int tokens = seen.Json.GetProperty("messages").EnumerateArray().Sum(m => s_tokenizer.CountTokens(ContentText(m)) + 4);
        Assert.InRange(tokens, 1, 1_500);
        Assert.Contains(log.ToString(0, 2_000), seen.Body.Replace("\\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);

        // The root read the refusal as the first sub_llm's result, on the wire.
        var toolResults = rootScenario.Requests[1].Json.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() == "tool").Select(ContentText).ToList();
        string refusal = Assert.Single(toolResults);
        Assert.Contains("more than the worker 'tiny-worker' can take: its context window is 2,000 tokens, less 500 kept for the answer", refusal);
        Assert.Contains("The largest slice that fits has about", refusal);
        Assert.Equal(1, result.Statistics.SubCalls);
    }
}
