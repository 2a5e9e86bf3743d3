using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// Root and worker built the usual M.E.AI way, with middleware: the RLM tools go to the model as declarations only, so a
/// FunctionInvokingChatClient never runs them; each sub_llm reaches the worker once and every request is counted.
/// </summary>
public sealed class ChatPipelineTests : IDisposable
{
    private const string OtelSource = "Rlm.Tools.Tests.Pipeline";
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 300).Select(i => $"record {i:D3}: value {i * 7}\n"));
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ActivityListener _listener;

    public ChatPipelineTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is OtelSource or RlmTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    public static TheoryData<string> Pipelines => new() { "functions", "otel", "logging", "cache", "functions+otel+logging+cache" };

    [Theory]
    [MemberData(nameof(Pipelines))]
    public async Task EachSubLlmReachesTheWorkerOnce_AndEveryRequestIsCounted(string middleware)
    {
        var innerRoot = new TestChatClient { GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(RootTurn(messages, options)) };
        var innerWorker = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, _, _) => Task.FromResult(TestChatClient.Text("found: " + Question(messages[^1].Text), new UsageDetails { InputTokenCount = 100, OutputTokenCount = 5 })),
        };
        var logs = new ConcurrentBag<string>();
        using var loggerFactory = new ListLoggerFactory(logs);
        var cache = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));

        using var root = Build(innerRoot, middleware, loggerFactory, cache);
        using var worker = Build(innerWorker, middleware, loggerFactory, cache);
        string traceId;
        RlmResult result;
        using (var test = new ActivitySource(OtelSource).StartActivity("test"))
        {
            traceId = test!.TraceId.ToString();
            result = await new RecursiveLanguageModel(root, worker, new RlmOptions { RootModelId = "root-m", WorkerModelId = "worker-m" }).QueryAsync("Which values?", s_context);
        }

        // Each sub_llm reached the worker exactly once, and no tool ran inside the pipeline.
        var questions = innerWorker.Requests.Select(r => Question(r.Messages[^1].Text)).OrderBy(q => q).ToList();
        Assert.Equal(["part 0", "part 1", "part 2"], questions);
        Assert.Equal(3, result.Statistics.SubCalls);
        Assert.Equal(1, result.Statistics.ToolCalls["grep"]);
        Assert.Equal(2, innerRoot.Requests.Count);
        Assert.Equal(innerRoot.Requests.Count + innerWorker.Requests.Count, result.Statistics.ModelCalls);
        Assert.Equal("found: part 0 | found: part 1 | found: part 2", result.Answer);
        Assert.Equal(300 + 4, result.Usage.InputTokenCount);
        Assert.All(innerRoot.Requests, r => Assert.All(r.Options!.Tools!, t => Assert.IsNotType<AIFunction>(t, exactMatch: false)));

        if (middleware.Contains("otel", StringComparison.Ordinal))
        {
            // OpenTelemetryChatClient writes the chat spans, under the engine's spans; the engine writes none itself.
            var spans = _spans.Where(s => s.TraceId.ToString() == traceId).ToList();
            var chats = spans.Where(s => s.Source.Name == OtelSource && s.OperationName.StartsWith("chat", StringComparison.Ordinal)).ToList();
            Assert.Equal(5, chats.Count);
            var byId = spans.ToDictionary(s => s.SpanId);
            bool Under(Activity span, string operation)
            {
                for (var current = span; byId.TryGetValue(current.ParentSpanId, out var parent); current = parent)
                {
                    if (parent.OperationName == operation)
                    {
                        return true;
                    }
                }

                return false;
            }

            Assert.Equal(3, chats.Count(c => Under(c, "rlm.sub_call"))); // the worker's requests, one per sub-call
            Assert.All(chats, c => Assert.True(Under(c, "rlm.query")));
            Assert.DoesNotContain(spans, s => s.Source.Name == RlmTelemetry.SourceName && s.OperationName.StartsWith("chat", StringComparison.Ordinal));
        }

        if (middleware.Contains("logging", StringComparison.Ordinal))
        {
            Assert.NotEmpty(logs);
        }
    }

    [Fact]
    public async Task DistributedCache_AnsweringARepeatedQuery_IsStillOneRequestPerSubCall()
    {
        var innerRoot = new TestChatClient { GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(RootTurn(messages, options)) };
        var innerWorker = new TestChatClient { GetResponseAsyncCallback = (messages, _, _) => Task.FromResult(TestChatClient.Text("found: " + Question(messages[^1].Text))) };
        var cache = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        using var root = new ChatClientBuilder(innerRoot).UseDistributedCache(cache).UseFunctionInvocation().Build();
        using var worker = new ChatClientBuilder(innerWorker).UseDistributedCache(cache).Build();
        var rlm = new RecursiveLanguageModel(root, worker);

        var first = await rlm.QueryAsync("Which values?", s_context);
        var second = await rlm.QueryAsync("Which values?", s_context);

        Assert.Equal(first.Answer, second.Answer);
        Assert.Equal(3, innerWorker.Requests.Count); // the repeated run was served from the cache
        Assert.Equal(first.Statistics.ModelCalls, second.Statistics.ModelCalls); // requests the engine made, cached or not
    }

    private static IChatClient Build(IChatClient inner, string middleware, ILoggerFactory loggerFactory, IDistributedCache cache)
    {
        var builder = new ChatClientBuilder(inner);
        if (middleware.Contains("cache", StringComparison.Ordinal))
        {
            builder.UseDistributedCache(cache);
        }

        if (middleware.Contains("functions", StringComparison.Ordinal))
        {
            builder.UseFunctionInvocation();
        }

        if (middleware.Contains("otel", StringComparison.Ordinal))
        {
            builder.UseOpenTelemetry(sourceName: OtelSource);
        }

        if (middleware.Contains("logging", StringComparison.Ordinal))
        {
            builder.UseLogging(loggerFactory);
        }

        return builder.Build();
    }

    /// <summary>A root model: three sub_llm calls and a grep, then final with what the workers found.</summary>
    private static ChatResponse RootTurn(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        Assert.NotNull(options?.Tools);
        var results = messages.Where(m => m.Role == ChatRole.Tool).SelectMany(m => m.Contents).OfType<FunctionResultContent>()
            .Select(r => r.Result?.ToString() ?? "").Where(r => r.StartsWith("found:", StringComparison.Ordinal)).ToList();
        if (results.Count == 0)
        {
            return TestChatClient.Calls(
                new UsageDetails { InputTokenCount = 2, OutputTokenCount = 1 },
                ("sub_llm", new { query = "part 0", start = 0, end = 1000 }),
                ("sub_llm", new { query = "part 1", start = 1000, end = 2000 }),
                ("sub_llm", new { query = "part 2", start = 2000, end = 3000 }),
                ("grep", new { pattern = "value 7\\b" }));
        }

        return TestChatClient.Calls(new UsageDetails { InputTokenCount = 2, OutputTokenCount = 1 }, ("final", new { answer = string.Join(" | ", results.Order()) }));
    }

    private static string Question(string leafPrompt)
    {
        int start = leafPrompt.IndexOf("<question>\n", StringComparison.Ordinal) + "<question>\n".Length;
        return leafPrompt[start..leafPrompt.IndexOf("\n</question>", start, StringComparison.Ordinal)];
    }

    private sealed class ListLoggerFactory(ConcurrentBag<string> lines) : ILoggerFactory, ILogger
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Add(formatter(state, exception));

        public void Dispose()
        {
        }
    }
}
