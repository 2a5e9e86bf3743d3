using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// A leaf sub-call whose prompt is over the worker's context window less the output reserve is never sent; the calling
/// model reads the token count, the window and the largest slice that fits. A scripted worker records what reaches it.
/// </summary>
public sealed partial class SubCallFitTests
{
    private static readonly string s_log = BuildLog(4_000);
    private static readonly Tokenizer s_tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");

    private static RlmOptions Tiny(int window = 2_000, int reserve = 500) => new()
    {
        WorkerModelId = "tiny-worker",
        ModelContextWindows = new Dictionary<string, int> { ["tiny-worker"] = window },
        SubCallOutputReserveTokens = reserve,
    };

    [Fact]
    public async Task OversizedSlice_NeverReachesTheWorker_AndTheErrorSaysTheNumbers()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "What happened?", start = 0, end = 40_000 })));
        var result = await new RecursiveLanguageModel(root, worker, Tiny()).QueryAsync("q?", s_log);

        string error = TestChatClient.LastToolResults(root.Requests[1])[0];
        int sliceTokens = s_tokenizer.CountTokens(s_log.AsSpan(0, 40_000));
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"Error: the slice has {sliceTokens:N0} tokens"), error);
        Assert.Contains("context window is 2,000 tokens, less 500 kept for the answer, so at most 1,500", error);
        Assert.Contains("'tiny-worker'", error);
        Assert.Empty(worker.Requests);
        Assert.Equal(0, result.Statistics.SubCalls);

        // The size it proposes does fit: a sub_llm over that many characters is sent.
        int fits = int.Parse(FitChars().Match(error).Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.InRange(fits, 1_000, 40_000 * 1_500 / sliceTokens);
        var again = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "What happened?", start = 0, end = fits })));
        await new RecursiveLanguageModel(again, worker, Tiny()).QueryAsync("q?", s_log);
        Assert.True(worker.Requests.Count == 1, TestChatClient.LastToolResults(again.Requests[1])[0] + " // first: " + error);
        var (messages, _) = Assert.Single(worker.Requests);
        Assert.Contains(s_log[..fits], messages[1].Text, StringComparison.Ordinal);
        int sent = messages.Sum(m => s_tokenizer.CountTokens(m.Text) + 4);
        Assert.InRange(sent, 1, 1_500);
    }

    [Fact]
    public async Task FittingSlice_ReachesTheWorker()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("the answer")) };
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "What happened?", start = 0, end = 2_000 })));
        var result = await new RecursiveLanguageModel(root, worker, Tiny()).QueryAsync("q?", s_log);

        Assert.Single(worker.Requests);
        Assert.Equal("the answer", TestChatClient.LastToolResults(root.Requests[1])[0]);
        Assert.Equal(1, result.Statistics.SubCalls);
    }

    [Fact]
    public async Task UnknownWorkerModel_IsNotChecked()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 40_000 })));
        var options = Tiny();
        options.WorkerModelId = "some-local-model";
        await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_log);

        Assert.Single(worker.Requests);
    }

    [Fact]
    public async Task WorkerModelFromClientMetadata_IsChecked()
    {
        var worker = new MetadataClient(new ChatClientMetadata("test", defaultModelId: "tiny-worker"));
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 40_000 })));
        var options = Tiny();
        options.WorkerModelId = null;
        await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", s_log);

        Assert.Equal(0, worker.Calls);
        Assert.Contains("at most 1,500", TestChatClient.LastToolResults(root.Requests[1])[0]);
    }

    [Fact]
    public async Task LlmQuery_OversizedPrompt_IsRefusedWithoutACall()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w")) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "llm_query(context.slice(0, 40000))" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        await new RecursiveLanguageModel(root, worker, Tiny()).QueryAsync("q", s_log);

        string result = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.Contains("the prompt has", result);
        Assert.Contains("The largest prompt that fits has about", result);
        Assert.Empty(worker.Requests);
    }

    [Fact]
    public void Defaults_AreDatedAndFoundByPrefix()
    {
        var options = new RlmOptions();
        Assert.Equal(4_096, options.SubCallOutputReserveTokens);
        Assert.Equal(1_047_576, RlmModelContextWindows.Find(options.ModelContextWindows, "gpt-4.1-mini-2025-04-14"));
        Assert.Equal(128_000, RlmModelContextWindows.Find(options.ModelContextWindows, "openai/gpt-4o-mini"));
        Assert.Equal(128_000, RlmModelContextWindows.Find(options.ModelContextWindows, "GPT-4o"));
        Assert.Null(RlmModelContextWindows.Find(options.ModelContextWindows, "gpt-4"));
        Assert.Null(RlmModelContextWindows.Find(options.ModelContextWindows, "llama3"));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", RlmModelContextWindows.DefaultsDate);

        options.ModelContextWindows["my-model"] = 8_192;
        Assert.Equal(8_192, RlmModelContextWindows.Find(options.ModelContextWindows, "My-Model"));
        Assert.False(new RlmOptions().ModelContextWindows.ContainsKey("my-model")); // each options instance has its own table
    }

    [Fact]
    public void ANonPositiveWindow_IsRefusedWhenTheModelIsCreated()
    {
        var options = new RlmOptions();
        options.ModelContextWindows["broken"] = 0;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RecursiveLanguageModel(new TestChatClient(), options: options));
        Assert.Contains("'broken'", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RlmOptions { SubCallOutputReserveTokens = -1 });
    }

    private static string BuildLog(int lines)
    {
        var text = new StringBuilder();
        for (int i = 0; i < lines; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"2025-01-01 10:{i % 60:00}:00 worker {i % 7} handled request {i} in {i % 113} ms\n");
        }

        return text.ToString();
    }

    [GeneratedRegex(@"has about ([\d,]+) characters")]
    private static partial Regex FitChars();

    private sealed class MetadataClient(ChatClientMetadata metadata) : IChatClient
    {
        public int Calls;

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(TestChatClient.Text("w"));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType == typeof(ChatClientMetadata) ? metadata : null;

        public void Dispose()
        {
        }
    }
}
