using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using Rlm.Tools.Middleware;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Middleware;

/// <summary>
/// The chat-client middleware: large or marked requests are answered by an RLM run whose root model is the inner client,
/// and no request the inner client receives is over the threshold; small requests pass through unchanged.
/// </summary>
public sealed partial class RlmChatClientTests
{
    private const string Fact = "FATAL disk /dev/sdq7 failed checksum (code 0xDEADBEEF)";
    private static readonly Lazy<string> s_log = new(() => MakeLog(5 * 1024 * 1024, Fact));

    [Fact]
    public async Task FiveMegabytePastedLog_IsAnsweredThroughTheTools_AndNoInnerRequestIsOverTheThreshold()
    {
        var inner = new TestChatClient { GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(LogRoot(messages, options)) };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel().Build();
        string pasted = "Here is our server log from last night:\n\n" + s_log.Value + "\n\nWhich disk failed, and with what code?";
        Assert.True(pasted.Length >= 5 * 1024 * 1024);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, pasted)]);

        Assert.Contains("/dev/sdq7", response.Text, StringComparison.Ordinal);
        Assert.Contains("0xDEADBEEF", response.Text, StringComparison.Ordinal);
        var result = Assert.IsType<RlmResult>(response.RawRepresentation);
        Assert.Equal(RlmStopReason.Final, result.StopReason);
        Assert.Equal(1, result.Statistics.ToolCalls["grep"]);
        Assert.Equal(1, result.Statistics.SubCalls);

        // Every request the inner model received (root turns and the leaf) is under the default threshold, counted
        // independently with the same tokenizer; the question reached the root, the log did not.
        Assert.Equal(4, inner.Requests.Count);
        Assert.All(inner.Requests, r => Assert.InRange(CountTokens(r.Messages, r.Options), 1, RlmChatClientOptions.DefaultThresholdTokens));
        Assert.Contains("Which disk failed, and with what code?", inner.Requests[0].Messages.Last(m => m.Role == ChatRole.User).Text, StringComparison.Ordinal);
        Assert.All(inner.Requests, r => Assert.True(r.Messages.Sum(m => m.Text.Length) < 200_000));

        // Usage is summed over every call of the run: 4 inner requests of 10 + 2 tokens.
        Assert.Equal(40, response.Usage!.InputTokenCount);
        Assert.Equal(8, response.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
    }

    [Fact]
    public async Task SmallThreshold_KeepsEveryRequestOfTheRunUnderIt()
    {
        const int threshold = 20_000;
        var inner = new TestChatClient { GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(LogRoot(messages, options)) };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel(o => o.ThresholdTokens = threshold).Build();
        string log = MakeLog(400_000, Fact);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Which disk failed?"), new ChatMessage(ChatRole.User, log)]);

        Assert.Contains("/dev/sdq7", response.Text, StringComparison.Ordinal);
        Assert.All(inner.Requests, r => Assert.InRange(CountTokens(r.Messages, r.Options), 1, threshold));
        var rlm = client.GetService<RecursiveLanguageModel>()!;
        Assert.True(rlm.Options.MaxConversationChars <= 2 * threshold);
        Assert.True(rlm.Options.MaxLeafChars <= 2 * threshold);
    }

    [Fact]
    public async Task SmallRequest_PassesThroughUnchanged()
    {
        var expected = new ChatResponse(new ChatMessage(ChatRole.Assistant, "hello back"));
        var inner = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(expected) };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel().Build();
        List<ChatMessage> messages = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "hello")];
        var options = new ChatOptions { Temperature = 0.5f, ModelId = "m" };

        var response = await client.GetResponseAsync(messages, options);

        Assert.Same(expected, response);
        var request = Assert.Single(inner.Requests);
        Assert.Same(options, request.Options);
        Assert.Equal(messages.Count, request.Messages.Count);
        Assert.All(messages.Zip(request.Messages), pair => Assert.Same(pair.First, pair.Second));

        var updates = await client.GetStreamingResponseAsync(messages, options).ToListAsync();
        Assert.Equal("hello back", updates.ToChatResponse().Text);
        Assert.Same(options, inner.Requests[1].Options);
        Assert.All(updates, u => Assert.False(u.RawRepresentation is RlmEvent));
    }

    [Fact]
    public async Task MarkedRequest_GoesThroughTheRun_AndFalseMarkPassesALargeOneThrough()
    {
        var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(options?.Tools is { Count: > 0 }
                ? TestChatClient.Calls(new UsageDetails { InputTokenCount = 3, OutputTokenCount = 1 }, ("final", new { answer = "from the run" }))
                : TestChatClient.Text("passed through")),
        };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel(o => o.ThresholdTokens = 5_000).Build();

        var marked = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "short question")], Marked(true));
        Assert.Equal("from the run", marked.Text);
        Assert.IsType<RlmResult>(marked.RawRepresentation);
        Assert.NotEmpty(inner.Requests[0].Options!.Tools!);

        var markedAsString = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "short question")], new ChatOptions { AdditionalProperties = new() { [RlmChatClient.UseRlmPropertyKey] = "true" } });
        Assert.IsType<RlmResult>(markedAsString.RawRepresentation);

        var large = await client.GetResponseAsync([new ChatMessage(ChatRole.User, MakeLog(100_000, Fact))], Marked(false));
        Assert.Equal("passed through", large.Text);
        Assert.Null(large.RawRepresentation);

        var unmarkedLarge = await client.GetResponseAsync([new ChatMessage(ChatRole.User, MakeLog(100_000, Fact))]);
        Assert.IsType<RlmResult>(unmarkedLarge.RawRepresentation);
    }

    [Fact]
    public async Task TextAttachments_BecomeNamedDocuments()
    {
        var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, options, _) =>
            {
                var results = TestChatClient.LastToolResults(messages);
                return Task.FromResult(results.Count == 0
                    ? TestChatClient.Calls(("grep", new { pattern = "build number" }))
                    : TestChatClient.Calls(("final", new { answer = results[0] })));
            },
        };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel().Build();
        var message = new ChatMessage(ChatRole.User, [
            new TextContent("What is the build number?"),
            new DataContent(Encoding.UTF8.GetBytes("step 1 ok\nstep 2 ok\nbuild number 4711\n"), "text/plain") { Name = "build.log" },
            new DataContent(Encoding.UTF8.GetBytes("# Notes\nnothing here\n"), "text/markdown; charset=utf-8"),
            new DataContent(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, "image/png"),
        ]);

        var response = await client.GetResponseAsync([message], Marked(true));

        Assert.Contains("[build.log:3]", response.Text, StringComparison.Ordinal);
        Assert.Contains("build number 4711", response.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(inner.Requests, r => r.Messages.Any(m => m.Text.Contains("step 2 ok", StringComparison.Ordinal)));

        var (query, documents) = Reader().Plan([message], null);
        Assert.Equal(["build.log", "attachment-1.md"], documents.Select(d => d.Name));
        Assert.StartsWith("What is the build number?", query, StringComparison.Ordinal);
        Assert.Contains("[attached document build.log]", query, StringComparison.Ordinal);
        Assert.Contains("[image/png attachment, not readable here]", query, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_PastedTextKeepsTheUsersWords_AndEarlierMessagesAreConversationContext()
    {
        string log = MakeLog(50_000, Fact);
        List<ChatMessage> messages =
        [
            new(ChatRole.System, "You are an SRE assistant."),
            new(ChatRole.User, "Our nightly job failed."),
            new(ChatRole.Assistant, "Please paste the log."),
            new(ChatRole.User, "Here it is:\n\n" + log + "\n\nWhich disk failed?"),
        ];

        var (query, documents) = Reader().Plan(messages, null);

        var document = Assert.Single(documents);
        Assert.Equal("message-4-user.txt", document.Name);
        Assert.Contains(Fact, document.Text, StringComparison.Ordinal);
        Assert.StartsWith("Here it is:\n\nWhich disk failed?\n\n[pasted text moved to document message-4-user.txt]", query, StringComparison.Ordinal);
        Assert.Contains("system: You are an SRE assistant.\nuser: Our nightly job failed.\nassistant: Please paste the log.", query, StringComparison.Ordinal);
        Assert.DoesNotContain("latency", query, StringComparison.Ordinal);

        // A long transcript becomes a document of its own; a large earlier message another.
        var options = new RlmChatClientOptions { MaxConversationTokens = 0 };
        var (query2, documents2) = new RequestReader(RlmChatClientOptions.DefaultTokenizer, options).Plan(
            [new(ChatRole.User, log), new(ChatRole.Assistant, "ok"), new(ChatRole.User, "Which disk failed?")], null);
        Assert.Equal(["message-1-user.txt", "conversation.txt"], documents2.Select(d => d.Name));
        Assert.Equal("Which disk failed?\n\nThe earlier conversation is in the document conversation.txt.", query2);
        Assert.Equal("user: [pasted text moved to document message-1-user.txt]\nassistant: ok\n", documents2[1].Text);
    }

    [Fact]
    public async Task Streaming_YieldsTheRunsEventsThenTheAnswerWithUsage()
    {
        var inner = new TestChatClient { GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(LogRoot(messages, options)) };
        var callerProgress = new List<RlmEvent>();
        using var client = new ChatClientBuilder(inner)
            .UseRecursiveLanguageModel(o => o.RlmOptions = new RlmOptions { Progress = new SyncProgress(callerProgress) })
            .Build();

        var updates = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Which disk failed?\n\n" + MakeLog(600_000, Fact))]).ToListAsync();

        Assert.True(updates.Count >= 3);
        var progress = updates[..^1];
        Assert.All(progress, u =>
        {
            var e = Assert.IsAssignableFrom<RlmEvent>(u.RawRepresentation);
            Assert.IsNotType<RlmRunCompleted>(e);
            Assert.Same(e, u.AdditionalProperties![RlmChatClient.EventPropertyKey]);
            Assert.Empty(u.Contents); // progress is never message text
        });
        var events = progress.Select(u => (RlmEvent)u.RawRepresentation!).ToList();
        Assert.IsType<RlmIterationStarted>(events[0]);
        Assert.Contains(events, e => e is RlmToolCallStarted { Name: "grep" });
        Assert.Contains(events, e => e is RlmModelResponded { Role: "root", Usage: not null });
        Assert.Contains(events, e => e is RlmToolCallEnded { Name: "grep", IsError: false } end && end.ResultExcerpt.Length > 0);

        // The caller's own receiver gets the same events, the run's completion last.
        Assert.Equal(events.Count + 1, callerProgress.Count);
        Assert.Equal(events.Select(e => e.GetType()), callerProgress.SkipLast(1).Select(e => e.GetType()));

        var last = updates[^1];
        var result = Assert.IsType<RlmResult>(last.RawRepresentation);
        var completed = Assert.IsType<RlmRunCompleted>(last.AdditionalProperties![RlmChatClient.EventPropertyKey]);
        Assert.Same(completed, callerProgress[^1]);
        Assert.Same(result, completed.Result);
        Assert.Equal(result.Answer, Assert.IsType<TextContent>(last.Contents[0]).Text);
        Assert.Equal(result.Usage.InputTokenCount, Assert.IsType<UsageContent>(last.Contents[1]).Details.InputTokenCount);
        Assert.Equal(ChatFinishReason.Stop, last.FinishReason);
        Assert.All(updates, u => Assert.Equal(last.ResponseId, u.ResponseId));

        var response = updates.ToChatResponse();
        Assert.Equal(result.Answer, response.Text);
        Assert.Contains("/dev/sdq7", response.Text, StringComparison.Ordinal);
        Assert.Equal(40, response.Usage!.InputTokenCount);
    }

    [Fact]
    public async Task Streaming_WithoutStreamProgress_YieldsOnlyTheAnswer()
    {
        var inner = new TestChatClient { GetResponseAsyncCallback = (messages, options, _) => Task.FromResult(LogRoot(messages, options)) };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel(o => o.StreamProgress = false).Build();

        var updates = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Which disk failed?\n\n" + MakeLog(600_000, Fact))]).ToListAsync();

        var answer = Assert.Single(updates);
        Assert.IsType<RlmResult>(answer.RawRepresentation);
        Assert.Contains("/dev/sdq7", answer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Streaming_ConsumerThatStopsEarly_CancelsTheRun()
    {
        var started = new TaskCompletionSource();
        var inner = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
                return TestChatClient.Text("never");
            },
        };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel().Build();
        var watch = Stopwatch.StartNew();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q")], Marked(true)))
        {
            Assert.IsType<RlmIterationStarted>(update.RawRepresentation);
            await started.Task;
            break;
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RootModelFailure_SurfacesAsRlmModelException_StreamingOrNot()
    {
        var inner = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => throw new HttpRequestException("no key", null, System.Net.HttpStatusCode.Unauthorized) };
        using var client = new ChatClientBuilder(inner).UseRecursiveLanguageModel(o => o.RlmOptions = new RlmOptions { MaxModelRetries = 0 }).Build();

        var e = await Assert.ThrowsAsync<RlmModelException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")], Marked(true)));
        Assert.NotNull(e.PartialResult);
        await Assert.ThrowsAsync<RlmModelException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q")], Marked(true)))
            {
                Assert.IsAssignableFrom<RlmEvent>(update.RawRepresentation);
            }
        });
    }

    [Fact]
    public void GetService_ReturnsTheRlm_WithTheInnerClientAsRoot()
    {
        var inner = new TestChatClient();
        var worker = new TestChatClient();
        using var client = new ChatClientBuilder(inner)
            .UseRecursiveLanguageModel(o =>
            {
                o.WorkerClient = worker;
                o.RlmOptions = new RlmOptions { RootModelId = "root-m", MaxConversationChars = 50_000 };
            })
            .Build();

        var rlm = Assert.IsType<RecursiveLanguageModel>(client.GetService(typeof(RecursiveLanguageModel)));
        Assert.Same(inner, rlm.RootClient);
        Assert.Same(worker, rlm.WorkerClient);
        Assert.Equal("root-m", rlm.Options.RootModelId);
        Assert.Equal(50_000, rlm.Options.MaxConversationChars);
        Assert.Equal(400_000, rlm.Options.MaxLeafChars); // the worker is another model: its leaves are not capped
        Assert.Same(rlm, client.GetService<RlmChatClient>()!.RecursiveLanguageModel);
        Assert.Equal(RlmChatClientOptions.DefaultThresholdTokens, client.GetService<RlmChatClientOptions>()!.ThresholdTokens);
        Assert.Same(inner, client.GetService<TestChatClient>());
        Assert.Null(client.GetService(typeof(RecursiveLanguageModel), "key"));
    }

    [Fact]
    public async Task OfflineModel_AsInnerClient_AnswersALargeRequestAndPassesASmallOneThrough()
    {
        using var client = new ChatClientBuilder(new OfflineChatClient()).UseRecursiveLanguageModel(o => o.ThresholdTokens = 10_000).Build();

        var large = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Which disk failed checksum?\n\n" + MakeLog(300_000, Fact))]);
        Assert.StartsWith(OfflineChatClient.AnswerPrefix, large.Text, StringComparison.Ordinal);
        Assert.Contains("/dev/sdq7", large.Text, StringComparison.Ordinal);
        var result = Assert.IsType<RlmResult>(large.RawRepresentation);
        Assert.True(result.Statistics.ToolCalls["grep"] >= 1);
        Assert.True(large.Usage!.InputTokenCount > 0);

        var small = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "disk sdq7 failed. Which disk failed?")]);
        Assert.Null(small.RawRepresentation as RlmResult);
        Assert.Equal(OfflineChatClient.ModelId, small.ModelId);
    }

    [Fact]
    public async Task ReadmeSample_RunsOffline()
    {
        IChatClient chat = new ChatClientBuilder(new OfflineChatClient())
            .UseRecursiveLanguageModel(o => o.ThresholdTokens = 10_000)
            .Build();

        string log = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"12:{i % 60:D2} INFO request {i} ok\n"))
            + "12:59 FATAL disk /dev/sdq7 failed checksum\n";
        ChatResponse response = await chat.GetResponseAsync($"Here is the log:\n\n{log}\n\nWhich disk failed checksum?");

        Assert.Contains("/dev/sdq7", response.Text, StringComparison.Ordinal);
        Assert.True(response.Usage?.InputTokenCount > 0);
        var run = (RlmResult)response.RawRepresentation!;
        Assert.True(run.Statistics.ModelCalls > 1);
        Assert.NotNull(chat.GetService<RecursiveLanguageModel>());
    }

    [Fact]
    public void CountTokens_StopsPastTheThreshold_AndMatchesTheTokenizerBelowIt()
    {
        using var client = new RlmChatClient(new TestChatClient(), new RlmChatClientOptions { ThresholdTokens = 1_000 });
        var tokenizer = RlmChatClientOptions.DefaultTokenizer;
        Assert.Same(tokenizer, client.Tokenizer);

        string text = "The quick brown fox jumps over the lazy dog.";
        Assert.Equal(tokenizer.CountTokens(text) + RequestReader.TokensPerMessage, client.CountTokens([new ChatMessage(ChatRole.User, text)]));

        var watch = Stopwatch.StartNew();
        Assert.Equal(1_001, client.CountTokens([new ChatMessage(ChatRole.User, s_log.Value)]));
        Assert.True(client.ShouldUseRecursiveLanguageModel([new ChatMessage(ChatRole.User, s_log.Value)]));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"counting took {watch.Elapsed}");
        Assert.False(client.ShouldUseRecursiveLanguageModel([new ChatMessage(ChatRole.User, text)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RlmChatClientOptions { ThresholdTokens = 999 });
    }

    private static ChatOptions Marked(bool value) => new() { AdditionalProperties = new() { [RlmChatClient.UseRlmPropertyKey] = value } };

    private static RequestReader Reader() => new(RlmChatClientOptions.DefaultTokenizer, new RlmChatClientOptions());

    /// <summary>
    /// A root model that finds the fact with tools: grep for FATAL, then one sub_llm over the hit's line, then final with
    /// the worker's answer. Without tools (the leaf) it reads the disk and code from its slice.
    /// </summary>
    private static ChatResponse LogRoot(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        var usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 2 };
        if (options?.Tools is not { Count: > 0 })
        {
            var found = LeafFact().Match(messages[^1].Text);
            return TestChatClient.Text(found.Success ? $"disk {found.Groups[1].Value}, code {found.Groups[2].Value}" : "not found", usage);
        }

        var results = TestChatClient.LastToolResults(messages);
        if (results.Count == 0)
        {
            return TestChatClient.Calls(usage, ("grep", new { pattern = "FATAL" }));
        }

        var hit = GrepOffset().Match(results[0]);
        if (hit.Success && results[0].Contains("matching line", StringComparison.Ordinal))
        {
            int offset = int.Parse(hit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            return TestChatClient.Calls(usage, ("sub_llm", new { query = "Which disk failed, with what code?", start = offset, end = offset + 200 }));
        }

        return TestChatClient.Calls(usage, ("final", new { answer = "The failed " + results[0] }));
    }

    /// <summary>Counts a request's tokens with the default tokenizer, independently of the middleware: texts, calls, results, tool declarations.</summary>
    private static int CountTokens(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        var tokenizer = RlmChatClientOptions.DefaultTokenizer;
        int count = 0;
        foreach (var content in messages.SelectMany(m => m.Contents))
        {
            count += content switch
            {
                TextContent t => tokenizer.CountTokens(t.Text),
                FunctionCallContent c => tokenizer.CountTokens(c.Name + JsonSerializer.Serialize(c.Arguments)),
                FunctionResultContent r => tokenizer.CountTokens(r.Result?.ToString() ?? ""),
                _ => 0,
            };
        }

        foreach (var tool in options?.Tools ?? [])
        {
            count += tokenizer.CountTokens(tool.Name + tool.Description + (tool as AIFunctionDeclaration)?.JsonSchema.GetRawText());
        }

        return count + RequestReader.TokensPerMessage * messages.Count;
    }

    /// <summary>A log of about <paramref name="size"/> characters with <paramref name="fact"/> on a line 90% of the way in.</summary>
    private static string MakeLog(int size, string fact)
    {
        var text = new StringBuilder(size + 200);
        bool placed = false;
        for (int i = 0; text.Length < size; i++)
        {
            if (!placed && text.Length >= size * 9 / 10)
            {
                text.Append("2025-03-01T02:14:07Z ").Append(fact).Append('\n');
                placed = true;
            }

            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"2025-03-01T01:{i / 60 % 60:D2}:{i % 60:D2}Z INFO api request id={i:D7} route=/v1/items status=200 latency={i % 97}ms\n");
        }

        return text.ToString();
    }

    [GeneratedRegex(@"@(\d+)")]
    private static partial Regex GrepOffset();

    [GeneratedRegex(@"FATAL disk (\S+) failed checksum \(code (0x[0-9A-F]+)\)")]
    private static partial Regex LeafFact();

    private sealed class SyncProgress(List<RlmEvent> events) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value)
        {
            lock (events)
            {
                events.Add(value);
            }
        }
    }
}
