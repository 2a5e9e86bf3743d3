using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.AI;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Mcp;

/// <summary>
/// <c>rlm mcp</c> end to end with the official C# MCP client: the real built <c>rlm</c> is spawned over stdio, serving
/// real files from a temporary directory with the offline model (or a loopback OpenAI-compatible server).
/// </summary>
public sealed class McpServerTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private const string FakeKey = "sk-test-MCP-1a2b3c4d5e6f-DO-NOT-PRINT";

    private readonly TempDirectory _corpus = CreateCorpus();

    /// <summary>A small corpus of real files: the answer is in one line of one of them.</summary>
    internal static TempDirectory CreateCorpus()
    {
        var dir = new TempDirectory();
        dir.WriteText("notes/launch.txt", "Mission log, day 12.\nThe crew checked the fuel lines.\nThe launch code is TANGO-4471.\nEnd of log.\n");
        dir.WriteText("src/app.cs", "// nothing to see\nclass App { }\n");
        dir.WriteText("README.md", "# Corpus\nA few files for the MCP tests.\n");
        return dir;
    }

    public void Dispose() => _corpus.Dispose();

    [Fact]
    public async Task ListTools_OffersQueryWithAQuestionArgument_AndListDocuments()
    {
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path]);

        var tools = await rlm.Client.ListToolsAsync();

        Assert.Equal(["list_documents", "query"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        var query = tools.Single(t => t.Name == "query");
        var schema = query.JsonSchema;
        Assert.Equal(["question"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("string", schema.GetProperty("properties").GetProperty("question").GetProperty("type").GetString());
        Assert.Contains("3 documents", query.Description ?? "", StringComparison.Ordinal);
        Assert.Equal("rlm", rlm.Client.ServerInfo?.Name);
        Assert.Contains(rlm.StdErrLines, l => l.Contains("offline model", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListDocuments_NamesEveryFileByRelativePath()
    {
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path]);

        var result = await rlm.Client.CallToolAsync("list_documents");

        string text = Text(result);
        output.WriteLine(text);
        Assert.NotEqual(true, result.IsError);
        Assert.StartsWith("3 documents", text, StringComparison.Ordinal);
        Assert.Contains("notes/launch.txt\t4 lines", text, StringComparison.Ordinal);
        Assert.Contains("src/app.cs", text, StringComparison.Ordinal);
        Assert.Contains("README.md", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_OnRealFiles_AnswersWithCitations_AndReportsProgressPerIterationAndSubCall()
    {
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path]);
        var progress = new ConcurrentQueue<ProgressNotificationValue>();

        var result = await rlm.Client.CallToolAsync(
            "query",
            new Dictionary<string, object?> { ["question"] = "What is the launch code?" },
            progress: new SynchronousProgress(progress.Enqueue));

        string text = Text(result);
        output.WriteLine(text);
        Assert.NotEqual(true, result.IsError);
        Assert.Contains("TANGO-4471", text, StringComparison.Ordinal);
        Assert.Contains("notes/launch.txt:3", text, StringComparison.Ordinal);
        // Named as rlm --dir names them: the directory relative to the server's working directory (the temp folder here), then the path under it.
        Assert.Contains($"Documents cited: {Path.GetRelativePath(Path.GetTempPath(), _corpus.Path)}/notes/launch.txt", text, StringComparison.Ordinal);

        await WaitUntilAsync(() => progress.Any(p => p.Message?.Contains("sub-call done", StringComparison.Ordinal) == true));
        var values = progress.ToArray();
        foreach (var value in values)
        {
            output.WriteLine($"{value.Progress}: {value.Message}");
        }

        Assert.Contains(values, p => p.Message!.StartsWith("iter 1: calling", StringComparison.Ordinal));
        Assert.Contains(values, p => p.Message!.StartsWith("sub-call started", StringComparison.Ordinal));
        Assert.Contains(values, p => p.Message!.StartsWith("sub-call done", StringComparison.Ordinal));
        Assert.Equal(values.Select(p => p.Progress).Order(), values.Select(p => p.Progress).Distinct().Order());
        Assert.Contains(rlm.StdErrLines, l => l.Contains("query 1 answered", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Query_ProgressNotificationsAreBuiltFromTheRunsEvents_RetriesAndSubCallsIncluded_KeyRedacted()
    {
        // Over a loopback endpoint: the root's first request gets a 503 that echoes the key (retried after 10 ms), then the
        // root sends two sub_llm calls in one reply, then final.
        int rootRequests = 0;
        var scenario = server.NewScenario(async (context, request) =>
        {
            var json = request.Json;
            if (!json.TryGetProperty("tools", out _))
            {
                await LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("the part says TANGO"))(context, request);
                return;
            }

            if (Interlocked.Increment(ref rootRequests) == 1)
            {
                await LoopbackOpenAIServer.Json($$$"""{"error":{"message":"overloaded for key {{{FakeKey}}}","type":"server_error"}}""", status: 503,
                    headers: new Dictionary<string, string> { ["retry-after-ms"] = "10" })(context, request);
                return;
            }

            bool sawResults = json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
            await LoopbackOpenAIServer.Json(sawResults ? CliEndpointTests.FinalCall("TANGO-4471 (notes/launch.txt:3)") : CliEndpointTests.SubLlmCalls(2))(context, request);
        });
        await using var rlm = await RlmMcpClient.StartAsync(
            ["--dir", _corpus.Path, "--base-url", scenario.Endpoint.ToString(), "--model", "root-m"],
            new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });
        var progress = new ConcurrentQueue<ProgressNotificationValue>();

        var result = await rlm.Client.CallToolAsync(
            "query",
            new Dictionary<string, object?> { ["question"] = "What is the launch code?" },
            progress: new SynchronousProgress(progress.Enqueue));

        Assert.NotEqual(true, result.IsError);
        Assert.Contains("TANGO-4471", Text(result), StringComparison.Ordinal);
        await WaitUntilAsync(() => progress.Any(p => p.Message?.StartsWith("iter 2:", StringComparison.Ordinal) == true)
            && progress.Count(p => p.Message?.StartsWith("sub-call done", StringComparison.Ordinal) == true) == 2);
        var values = progress.ToArray();
        foreach (var value in values)
        {
            output.WriteLine($"{value.Progress}: {value.Message}");
        }

        string[] messages = [.. values.OrderBy(v => v.Progress).Select(v => v.Message!)];
        Assert.Equal("iter 1: calling root-m (root)...", messages[0]);
        Assert.StartsWith("retry (depth 0): root request server error (HTTP 503); retry 1 of ", messages[1], StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", messages[1], StringComparison.Ordinal);
        Assert.Equal(2, messages.Count(m => m.StartsWith("sub-call started (depth=1, ", StringComparison.Ordinal)));
        Assert.Equal(2, messages.Count(m => m == "sub-call done (depth=1): the part says TANGO"));
        Assert.Equal("iter 2: calling root-m (root)...", messages[^1]);
        Assert.Equal(Enumerable.Range(1, values.Length).Select(i => (float)i), values.Select(v => v.Progress).Order()); // 1, 2, 3, …: one per event
        Assert.All(messages, m => Assert.DoesNotContain(FakeKey, m, StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains("sub_llm(", StringComparison.Ordinal)); // tool calls are not notified
    }

    [Fact]
    public async Task Query_IsTheLibrarysAIFunction_DocumentsFilterNarrowsTheCorpus_EmptyQuestionIsAnErrorResult()
    {
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path]);
        var query = (await rlm.Client.ListToolsAsync()).Single(t => t.Name == "query");
        Assert.True(query.JsonSchema.GetProperty("properties").TryGetProperty("documents", out _), query.JsonSchema.ToString());
        Assert.Equal(["question"], query.JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));

        var narrowed = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?", ["documents"] = "launch" });
        var elsewhere = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?", ["documents"] = "README" });
        var unmatched = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?", ["documents"] = "no-such-name" });
        var empty = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "  " });

        output.WriteLine($"{Text(narrowed)}\n---\n{Text(elsewhere)}\n---\n{Text(unmatched)}\n---\n{Text(empty)}");
        Assert.NotEqual(true, narrowed.IsError);
        Assert.Contains("TANGO-4471", Text(narrowed), StringComparison.Ordinal);
        Assert.DoesNotContain("TANGO-4471", Text(elsewhere), StringComparison.Ordinal);
        Assert.True(unmatched.IsError);
        Assert.Contains("The documents argument 'no-such-name' is in no document name", Text(unmatched), StringComparison.Ordinal);
        Assert.Contains("notes/launch.txt", Text(unmatched), StringComparison.Ordinal);
        Assert.True(empty.IsError);
        Assert.StartsWith("The question argument is empty", Text(empty), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_MaxTokens_BindsEachQuery_AnswerSaysTheBudgetWasSpent()
    {
        // The offline model reports usage: its first reply alone is over 50 tokens.
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path, "--max-tokens", "50"]);

        var first = Text(await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" }));
        var second = Text(await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" }));

        output.WriteLine(first);
        // The root only called tools: no answer, so the note is the whole reply (never an empty text).
        Assert.Equal("(Note: The run stopped without an answer: the run's token budget was spent.)", first);
        Assert.Contains("the run's token budget was spent", second, StringComparison.Ordinal); // and the server goes on
    }

    [Fact]
    public async Task Query_WithoutAProgressToken_SendsNoProgressNotification()
    {
        await using var rlm = await RlmMcpClient.StartAsync(["--file", Path.Combine(_corpus.Path, "notes", "launch.txt")]);
        int notifications = 0;
        await using var handler = rlm.Client.RegisterNotificationHandler(NotificationMethods.ProgressNotification, (_, _) =>
        {
            Interlocked.Increment(ref notifications);
            return ValueTask.CompletedTask;
        });

        var result = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });
        var documents = await rlm.Client.CallToolAsync("list_documents"); // a later reply: earlier notifications have arrived

        Assert.Contains("TANGO-4471", Text(result), StringComparison.Ordinal);
        Assert.Contains("launch.txt:3", Text(result), StringComparison.Ordinal);
        Assert.StartsWith("1 document,", Text(documents), StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref notifications));
    }

    [Fact]
    public async Task Cancellation_NotificationsCancelled_EndsTheRun_AbortsTheModelRequest_AndTheServerGoesOn()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scenario = server.NewScenario(async (context, _) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                aborted.TrySetResult();
            }
        });
        await using var rlm = await RlmMcpClient.StartAsync(
            ["--dir", _corpus.Path, "--base-url", scenario.Endpoint.ToString()],
            new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        using var cts = new CancellationTokenSource();
        var call = rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" }, cancellationToken: cts.Token).AsTask();
        await scenario.FirstRequest.WaitAsync(TimeSpan.FromSeconds(60));
        cts.Cancel(); // the client sends notifications/cancelled

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the server ended the run: its model request was aborted
        string line = await rlm.WaitForStdErrAsync("canceled by the client", TimeSpan.FromSeconds(30));
        output.WriteLine(line);

        var documents = await rlm.Client.CallToolAsync("list_documents");
        Assert.StartsWith("3 documents", Text(documents), StringComparison.Ordinal);
        Assert.Single(scenario.Requests);
        Assert.DoesNotContain(FakeKey, rlm.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndpointFailure_IsAToolErrorResult_OneLine_KeyNeverShown_AndTheServerGoesOn()
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(
            """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}""", status: 401));
        await using var rlm = await RlmMcpClient.StartAsync(
            ["--dir", _corpus.Path, "--base-url", scenario.Endpoint.ToString()],
            new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        var result = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });

        string text = Text(result);
        output.WriteLine(text);
        Assert.True(result.IsError);
        Assert.DoesNotContain('\n', text);
        Assert.Contains("endpoint failed", text, StringComparison.Ordinal);
        Assert.Contains("401", text, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeKey, text + rlm.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", rlm.StdErr, StringComparison.Ordinal);
        Assert.StartsWith("3 documents", Text(await rlm.Client.CallToolAsync("list_documents")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpTool_AsAnAIFunction_InAFunctionInvokingChatClient_AnswersTheOuterAgent()
    {
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path]);
        var tools = await rlm.Client.ListToolsAsync();
        AIFunction query = tools.Single(t => t.Name == "query");
        var outer = new ScriptedOuterModel();
        using var agent = new ChatClientBuilder(outer).UseFunctionInvocation().Build();

        var response = await agent.GetResponseAsync(
            "Look up the launch code in the mission files.",
            new ChatOptions { Tools = [query] });

        output.WriteLine(response.Text);
        Assert.Equal(2, outer.Calls);
        Assert.Contains("query", outer.ToolNamesSeen);
        Assert.StartsWith("The corpus says:", response.Text, StringComparison.Ordinal);
        Assert.Contains("TANGO-4471", response.Text, StringComparison.Ordinal);
        Assert.Contains("notes/launch.txt:3", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoInput_IsAUsageError_OneLine_ExitCode2()
    {
        var result = await RlmProcess.RunAsync("mcp");

        RlmProcess.AssertUsageError(result, "no input");
    }

    [Theory]
    [InlineData("directory not found", "--dir", "/no/such/directory/for-rlm-mcp")]
    [InlineData("--glob works only with --dir", "--file", "x.txt", "--glob", "*.md")]
    [InlineData("--max-depth must be between 1 and 8", "--dir", ".", "--max-depth", "9")]
    [InlineData("--timeout must be a number of seconds from 0.01 to 86400 (got -3)", "--dir", ".", "--timeout", "-3")]
    [InlineData("--max-tokens must be a positive whole number of tokens (got -1)", "--dir", ".", "--max-tokens", "-1")]
    [InlineData("--max-time must be a positive number of seconds from 0.001 to 31536000 (got 'x') (see rlm mcp --help)", "--dir", ".", "--max-time", "x")]
    [InlineData("--max-cost cannot bound the offline model", "--dir", ".", "--max-cost", "2")]
    [InlineData("unrecognized", "--dir", ".", "--stdin")]
    public async Task BadInput_IsAUsageError_BeforeServing(string expected, params string[] args)
    {
        var result = await RlmProcess.RunAsync(["mcp", .. args]);

        RlmProcess.AssertUsageError(result, expected);
    }

    [Fact]
    public async Task Help_DocumentsTheSubcommand()
    {
        var root = await RlmProcess.RunAsync("--help");
        var mcp = await RlmProcess.RunAsync("mcp", "--help");

        Assert.Equal(0, root.ExitCode);
        Assert.Contains("rlm mcp", root.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, mcp.ExitCode);
        Assert.Contains("list_documents", mcp.StdOut, StringComparison.Ordinal);
        Assert.Contains("--dir", mcp.StdOut, StringComparison.Ordinal);
        Assert.Contains("--base-url", mcp.StdOut, StringComparison.Ordinal);
    }

    internal static string Text(CallToolResult result) =>
        string.Join('\n', result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>Reports on the calling thread (<see cref="Progress{T}"/> would post to the thread pool and reorder).</summary>
    private sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }

    /// <summary>An outer agent's model: first it calls the <c>query</c> tool, then it answers with the tool's result.</summary>
    private sealed class ScriptedOuterModel : IChatClient
    {
        public int Calls { get; private set; }

        public List<string> ToolNamesSeen { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Calls++;
            ToolNamesSeen.AddRange(options?.Tools?.Select(t => t.Name) ?? []);
            var list = messages.ToList();
            var toolResult = list.SelectMany(m => m.Contents).OfType<FunctionResultContent>().FirstOrDefault();
            if (toolResult is null)
            {
                var call = new FunctionCallContent("call-1", "query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [call])));
            }

            string resultText = toolResult.Result switch
            {
                JsonElement json => json.ToString(),
                null => "(no result)",
                var other => other.ToString() ?? string.Empty,
            };
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"The corpus says: {resultText}")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
