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

    /// <summary>A reply with several tool calls at once.</summary>
    private static string ToolCalls(int step, params (string Name, string Arguments)[] calls) => JsonSerializer.Serialize(new
    {
        id = $"chatcmpl-{step}",
        @object = "chat.completion",
        created = 1700000000,
        model = "gpt-4.1",
        choices = new[]
        {
            new
            {
                index = 0,
                finish_reason = "tool_calls",
                message = new { role = "assistant", content = (string?)null, tool_calls = calls.Select((c, i) => new { id = $"call_{step}_{i}", type = "function", function = new { name = c.Name, arguments = c.Arguments } }).ToArray() },
            },
        },
        usage = new { prompt_tokens = 100, completion_tokens = 10, total_tokens = 110 },
    });

    private static string BuildLog(int chars)
    {
        var log = new StringBuilder();
        for (int i = 0; log.Length < chars; i++)
        {
            log.Append(CultureInfo.InvariantCulture, $"2025-01-01 10:{i % 60:00}:00 worker {i % 7} handled request {i} in {i % 113} ms\n");
        }

        return log.ToString();
    }

    private static int WireTokens(RecordedRequest request) =>
        request.Json.GetProperty("messages").EnumerateArray().Sum(m => s_tokenizer.CountTokens(ContentText(m)) + 4);

    [Fact]
    public async Task AutoSplit_OversizedSlice_ReachesTheWorkerInParts_NoneOverTheWindow()
    {
        string log = BuildLog(40_000);
        int step = 0;
        var rootScenario = server.NewScenario(async (context, _) =>
        {
            string body = Interlocked.Increment(ref step) switch
            {
                1 => ToolCall(1, "sub_llm", """{"query":"What happened?","start":0,"end":40000}"""),
                _ => ToolCall(2, "final", """{"answer":"all parts read"}"""),
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        int answered = 0;
        var workerScenario = server.NewScenario(async (context, _) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Text($"answer {Interlocked.Increment(ref answered)}"));
        });
        using var root = NewClient(rootScenario, "gpt-4.1");
        using var worker = NewClient(workerScenario, "tiny-worker");
        var options = new RlmOptions { RootModelId = "gpt-4.1", MaxModelRetries = 0, StreamRootResponses = false, SubCallOutputReserveTokens = 500, AutoSplitOversizedSubCalls = true };
        options.ModelContextWindows["tiny-worker"] = 2_000;

        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("What happened?", log);

        Assert.Equal("all parts read", result.Answer);
        var seen = workerScenario.Requests.ToList();
        int sliceTokens = s_tokenizer.CountTokens(log.AsSpan(0, 40_000));
        Assert.InRange(seen.Count, (sliceTokens / 1_500) + 1, 40);
        Assert.All(seen, r => Assert.InRange(WireTokens(r), 1, 1_500));

        // Every line of the slice reached the worker in some part.
        string wire = string.Concat(seen.Select(r => r.Body.Replace("\\n", "\n", StringComparison.Ordinal)));
        Assert.All(log[..40_000].Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line.Length > 60), line => Assert.Contains(line, wire, StringComparison.Ordinal));

        string combined = rootScenario.Requests[1].Json.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() == "tool").Select(ContentText).Single();
        Assert.Contains($"split at line breaks into {seen.Count} parts", combined);
        Assert.Contains($"[part 1/{seen.Count}, lines 1–", combined);
        Assert.Contains($"[part {seen.Count}/{seen.Count}, lines ", combined);
        Assert.Equal(seen.Count, result.Statistics.SubCalls);
        Assert.Equal(1, result.Statistics.SplitSubCalls);
    }

    [Fact]
    public async Task BatchOverTheTokenBudget_SendsNoWorkerRequest_AndEachCallReadsTheEstimate()
    {
        string log = BuildLog(20_000);
        int step = 0;
        var rootScenario = server.NewScenario(async (context, _) =>
        {
            string body = Interlocked.Increment(ref step) switch
            {
                1 => ToolCalls(1,
                    ("sub_llm", """{"query":"Errors in the first part?","start":0,"end":5000}"""),
                    ("sub_llm", """{"query":"Errors in the second part?","start":5000,"end":10000}"""),
                    ("sub_llm", """{"query":"Errors in the third part?","start":10000,"end":15000}""")),
                _ => ToolCall(2, "final", """{"answer":"answered without sub-calls"}"""),
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        var workerScenario = server.NewScenario(async (context, _) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Text("w"));
        });
        using var root = NewClient(rootScenario, "gpt-4.1");
        using var worker = NewClient(workerScenario, "tiny-worker");
        var events = new List<RlmEvent>();
        var options = new RlmOptions
        {
            RootModelId = "gpt-4.1", MaxModelRetries = 0, StreamRootResponses = false, MaxTotalTokens = 8_000,
            Progress = new Progress(e => { lock (events) { events.Add(e); } }),
        };

        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("Which errors?", log);

        Assert.Equal("answered without sub-calls", result.Answer);
        Assert.Empty(workerScenario.Requests);
        var toolResults = rootScenario.Requests[1].Json.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() == "tool").Select(ContentText).ToList();
        Assert.Equal(3, toolResults.Count);
        Assert.All(toolResults, r => Assert.Contains("not sent: this batch of 3 sub-calls is estimated at", r));
        Assert.All(toolResults, r => Assert.Contains("tokens left of the run's budget", r));
        Assert.Equal(1, result.Statistics.RefusedSubCallBatches);
        var refused = Assert.Single(events.OfType<RlmSubCallBatchRefused>());
        Assert.Equal(3, refused.SubCalls);
        Assert.True(refused.EstimatedTokens > refused.RemainingTokens);
    }

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

    private sealed class Progress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }
}
