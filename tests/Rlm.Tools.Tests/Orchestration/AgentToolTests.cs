using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>The RLM as a tool for other agents (AsAIFunction), prepared corpora, custom tools and logging.</summary>
public sealed class AgentToolTests
{
    private static readonly RlmDocument[] s_documents =
    [
        new("logs/app.log", string.Concat(Enumerable.Range(0, 300).Select(i => $"{i:D4} INFO request ok\n")) + "0300 ERROR payment gateway timeout for user 4471\n"),
        new("logs/db.log", "connection pool exhausted\nrecovered\n"),
        new("README.md", "This service handles payments.\n"),
    ];

    [Fact]
    public async Task AsAIFunction_ProgressInTheCallsServices_GetsThatCallsEvents_AndOptionsProgressStillGetsThem()
    {
        var everyRun = new ConcurrentQueue<RlmEvent>();
        var rlm = new RecursiveLanguageModel(new OfflineChatClient(), options: new RlmOptions { Progress = new SyncProgress(everyRun.Enqueue) });
        var tool = rlm.AsAIFunction(RlmCorpus.FromDocuments(s_documents));
        var thisCall = new ConcurrentQueue<RlmEvent>();
        var services = new ProgressServices(new SyncProgress(thisCall.Enqueue));

        await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "Which user had a payment gateway timeout?", Services = services });
        await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "Which user had a payment gateway timeout?" });

        Assert.Contains(thisCall, e => e is RlmIterationStarted);
        Assert.Single(thisCall, e => e is RlmRunCompleted);
        Assert.Equal(2, everyRun.Count(e => e is RlmRunCompleted));
    }

    [Fact]
    public async Task AsAIFunction_EmptyQuestion_IsAnArgumentExceptionForTheCaller()
    {
        var tool = new RecursiveLanguageModel(new OfflineChatClient()).AsAIFunction(RlmCorpus.FromText("text"));

        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "  " }));

        Assert.Equal("question", e.ParamName);
        Assert.StartsWith("The question argument is empty", e.Message);
    }

    private sealed class SyncProgress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }

    private sealed class ProgressServices(IProgress<RlmEvent> progress) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(IProgress<RlmEvent>) ? progress : null;
    }

    [Fact]
    public async Task AsAIFunction_InsideAFunctionInvokingLoop_AnswersOverTheBoundCorpus_AndReportsUsage()
    {
        var rlm = new RecursiveLanguageModel(new OfflineChatClient());
        var corpus = RlmCorpus.FromDocuments(s_documents);
        var tool = rlm.AsAIFunction(corpus, "search_logs");

        // The outer agent: first asks the tool, then answers with what the tool returned.
        var outer = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, options, _) =>
            {
                var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
                if (result is null)
                {
                    Assert.Contains(options!.Tools!, t => t.Name == "search_logs");
                    return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant,
                        [new FunctionCallContent("c1", "search_logs", new Dictionary<string, object?> { ["question"] = "Which user had a payment gateway timeout?", ["documents"] = "app.log" })])));
                }

                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Tool said: " + JsonSerializer.Serialize(result.Result))));
            },
        };
        using var agent = new ChatClientBuilder(outer).UseFunctionInvocation().Build();

        var response = await agent.GetResponseAsync("Find the failed payment.", new ChatOptions { Tools = [tool] });

        var call = outer.Requests[1].Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single();
        var answer = JsonSerializer.Deserialize<JsonElement>(JsonSerializer.Serialize(call.Result));
        Assert.Contains("4471", answer.GetProperty("answer").GetString());
        Assert.True(answer.GetProperty("isFinal").GetBoolean());
        Assert.True(answer.GetProperty("inputTokens").GetInt64() > 0);
        Assert.True(answer.GetProperty("modelCalls").GetInt32() > 0);
        Assert.Contains("4471", response.Text);

        // The schema asks for the question (and the optional filter), never for the corpus.
        var properties = tool.JsonSchema.GetProperty("properties");
        Assert.True(properties.TryGetProperty("question", out _));
        Assert.True(properties.TryGetProperty("documents", out _));
        Assert.Equal(2, properties.EnumerateObject().Count());
    }

    [Fact]
    public async Task AsAIFunction_TheDocumentFilterIsOptional()
    {
        var tool = new RecursiveLanguageModel(new OfflineChatClient()).AsAIFunction(RlmCorpus.FromDocuments(s_documents));

        var result = await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "Which user had a payment gateway timeout?" });

        Assert.Contains("4471", JsonSerializer.Serialize(result));
        var required = tool.JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["question"], required);
    }

    [Fact]
    public async Task AsAIFunction_UnknownDocumentFilter_IsAnErrorTheCallerSees()
    {
        var tool = new RecursiveLanguageModel(new OfflineChatClient()).AsAIFunction(RlmCorpus.FromDocuments(s_documents));

        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "q?", ["documents"] = "nope" }));

        Assert.Equal("documents", e.ParamName);
        Assert.Contains("logs/app.log", e.Message);
    }

    [Fact]
    public async Task Corpus_IsPreparedOnce_AndServesManyQueries()
    {
        var corpus = RlmCorpus.FromDocuments(s_documents);
        var rlm = new RecursiveLanguageModel(new OfflineChatClient());

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => rlm.QueryAsync("Which user had a payment gateway timeout?", corpus)));

        Assert.All(answers, a => Assert.Contains("4471", a.Answer));
        Assert.Equal(["logs/app.log", "logs/db.log", "README.md"], corpus.DocumentNames);
        Assert.Equal(301 + 2 + 1 + 3, corpus.LineCount); // every document's lines plus one header line each
        Assert.True(corpus.Length > s_documents.Sum(d => d.Text.Length));
    }

    [Fact]
    public void Corpus_FromDirectory_ReadsTextFiles_SkipsBinary_NamesByRelativePath()
    {
        string dir = Directory.CreateTempSubdirectory("rlm-corpus-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            File.WriteAllText(Path.Combine(dir, "b.txt"), "bee\n");
            File.WriteAllText(Path.Combine(dir, "sub", "a.md"), "ay\n");
            File.WriteAllBytes(Path.Combine(dir, "image.bin"), [1, 0, 2, 0]);

            var corpus = RlmCorpus.FromDirectory(dir);
            var onlyMd = RlmCorpus.FromDirectory(dir, "**/*.md");

            Assert.Equal(["b.txt", "sub/a.md"], corpus.DocumentNames);
            Assert.Equal(["sub/a.md"], onlyMd.DocumentNames);
            Assert.Throws<ArgumentException>(() => RlmCorpus.FromDirectory(dir, "**/*.cs"));
            Assert.Throws<DirectoryNotFoundException>(() => RlmCorpus.FromDirectory(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task CustomTools_AreDeclaredToTheRoot_RunByTheEngine_WithErrorsAndCaps()
    {
        int calls = 0;
        var lookup = AIFunctionFactory.Create((string user) => { Interlocked.Increment(ref calls); return new { user, plan = "gold" }; }, "lookup_user", "Looks a user up.");
        var broken = AIFunctionFactory.Create(string () => throw new InvalidOperationException("database down"), "broken_tool");
        var huge = AIFunctionFactory.Create(() => new string('x', 50_000), "huge_tool");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("lookup_user", new { user = "4471" }), ("broken_tool", new { }), ("huge_tool", new { })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions { Tools = [lookup, broken, huge], MaxToolOutputChars = 1_000 };

        // A FunctionInvokingChatClient in the root pipeline must not run them: the engine does, once.
        using var pipeline = new ChatClientBuilder(root).UseFunctionInvocation().Build();
        var result = await new RecursiveLanguageModel(pipeline, options: options).QueryAsync("q?", "ctx");

        Assert.Equal(1, calls);
        var declared = root.Options[0]!.Tools!.Select(t => t.Name).ToList();
        Assert.Contains("lookup_user", declared);
        Assert.Contains("grep", declared);
        Assert.All(root.Options[0]!.Tools!, t => Assert.IsNotType<AIFunction>(t, exactMatch: false));
        var results = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.Equal("{\"user\":\"4471\",\"plan\":\"gold\"}", results[0]);
        Assert.StartsWith("Error: broken_tool failed: database down", results[1]);
        Assert.True(results[2].Length <= 1_000);
        Assert.Equal(1, result.Statistics.ToolCalls["lookup_user"]);
    }

    [Theory]
    [InlineData("grep")]
    [InlineData("final")]
    public void CustomTool_NamedLikeABuiltInTool_IsRefused(string name)
    {
        var tool = AIFunctionFactory.Create(() => 1, name);

        var e = Assert.Throws<ArgumentException>(() => new RecursiveLanguageModel(new OfflineChatClient(), options: new RlmOptions { Tools = [tool] }));

        Assert.Contains(name, e.Message);
    }

    [Fact]
    public async Task Logging_GoesThroughILogger_WithoutContextTextAboveTrace()
    {
        var entries = new ConcurrentBag<(LogLevel Level, string Message)>();
        using var factory = new ListLoggerFactory(entries);
        string secretLine = "the vault code is 4417-SECRET";
        var options = new RlmOptions { LoggerFactory = factory };

        await new RecursiveLanguageModel(new OfflineChatClient(), options: options).QueryAsync("What is the vault code?", secretLine + "\n" + new string('.', 2_000));

        Assert.Contains(entries, e => e.Level == LogLevel.Information && e.Message.StartsWith("RLM query started", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Level == LogLevel.Information && e.Message.StartsWith("RLM query ended: Final", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Level == LogLevel.Debug && e.Message.StartsWith("Tool call grep", StringComparison.Ordinal));
        Assert.All(entries.Where(e => e.Level > LogLevel.Trace), e => Assert.DoesNotContain("4417", e.Message));
        Assert.All(entries.Where(e => e.Level > LogLevel.Trace), e => Assert.DoesNotContain("vault", e.Message));
    }

    private sealed class ListLoggerFactory(ConcurrentBag<(LogLevel, string)> entries) : ILoggerFactory, ILogger
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Add((logLevel, formatter(state, exception)));

        public void Dispose()
        {
        }
    }
}
