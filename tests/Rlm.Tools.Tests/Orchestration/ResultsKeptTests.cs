using System.Net;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Json;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// A run's result is never thrown away: a provider that ignores tool_choice "none" at the last call, a client's own bug
/// (not retried), a budget stop without an answer (no prose in the answer), and an unpriced model (the JSON says why).
/// </summary>
public sealed class ResultsKeptTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3} of the context\n"));

    private static RlmOptions Retrying() => new()
    {
        MaxModelRetries = 4,
        ModelRetryBaseDelay = TimeSpan.FromMilliseconds(2),
        ModelRetryMaxDelay = TimeSpan.FromMilliseconds(20),
    };

    public static TheoryData<Exception> ClientBugs() => new()
    {
        new NullReferenceException("Object reference not set to an instance of an object."),
        new ArgumentException("bad argument", "messages"),
        new ArgumentOutOfRangeException("index"),
        new InvalidOperationException("the client was misused"),
        new KeyNotFoundException("no such key"),
        new InvalidCastException("cannot cast"),
        new IndexOutOfRangeException(),
        new NotImplementedException(),
    };

    [Theory]
    [MemberData(nameof(ClientBugs))]
    public async Task ClientBug_FailsAtOnce_KindUnknown_WithTheOriginalException(Exception bug)
    {
        var root = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => throw bug };
        var options = Retrying();
        options.StreamRootResponses = false;

        var e = await Assert.ThrowsAsync<RlmModelException>(() => new RecursiveLanguageModel(root, options: options).QueryAsync("q?", s_context));

        Assert.Equal(RlmModelFailureKind.Unknown, e.Kind);
        Assert.Equal(1, e.Attempts);
        Assert.Single(root.Requests);
        Assert.Same(bug, e.InnerException);
        Assert.Contains(bug.GetType().Name, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, e.PartialResult!.Statistics.ModelRetries);
    }

    [Fact]
    public async Task ClientBug_InAStreamedReply_FailsAtOnce()
    {
        var bug = new InvalidOperationException("enumerated twice");
        var root = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => throw bug };

        var e = await Assert.ThrowsAsync<RlmModelException>(() => new RecursiveLanguageModel(root, options: Retrying()).QueryAsync("q?", s_context));

        Assert.Equal(RlmModelFailureKind.Unknown, e.Kind);
        Assert.Equal(1, e.Attempts);
        Assert.Same(bug, e.InnerException);
    }

    public static TheoryData<Exception, RlmModelFailureKind> TransientFailures() => new()
    {
        { new HttpRequestException("service unavailable", null, HttpStatusCode.ServiceUnavailable), RlmModelFailureKind.ServerError },
        { new HttpRequestException("too many requests", null, HttpStatusCode.TooManyRequests), RlmModelFailureKind.RateLimited },
        { new HttpRequestException("connection refused"), RlmModelFailureKind.Transport },
        { new IOException("connection reset by peer"), RlmModelFailureKind.Transport },
        { new TimeoutException("the client timed out"), RlmModelFailureKind.Timeout },
        { new JsonException("'<' is an invalid start of a value."), RlmModelFailureKind.InvalidResponse },
        { new FormatException("bad number"), RlmModelFailureKind.InvalidResponse },
        { new InvalidDataException("no choices"), RlmModelFailureKind.InvalidResponse },
    };

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public async Task TransientFailure_IsRetried_EveryAttemptCounted(Exception failure, RlmModelFailureKind kind)
    {
        var root = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => throw failure };
        var options = Retrying();
        options.StreamRootResponses = false;

        var e = await Assert.ThrowsAsync<RlmModelException>(() => new RecursiveLanguageModel(root, options: options).QueryAsync("q?", s_context));

        Assert.Equal(kind, e.Kind);
        Assert.Equal(5, e.Attempts);
        Assert.Equal(5, root.Requests.Count);
        Assert.Equal(4, e.PartialResult!.Statistics.ModelRetries);
    }

    [Fact]
    public async Task HttpClientError_IsNotRetried()
    {
        var root = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => throw new HttpRequestException("bad request", null, HttpStatusCode.BadRequest) };

        var e = await Assert.ThrowsAsync<RlmModelException>(() => new RecursiveLanguageModel(root, options: Retrying()).QueryAsync("q?", s_context));

        Assert.Equal(RlmModelFailureKind.ClientError, e.Kind);
        Assert.Equal(1, e.Attempts);
    }

    /// <summary>A provider that ignores tool_choice "none": every reply is a tool call, the last (tool-less) request's too.</summary>
    private static TestChatClient IgnoresToolChoice(Func<int, ChatOptions, ChatResponse> reply)
    {
        int n = 0;
        return new TestChatClient { GetResponseAsyncCallback = (_, options, _) => Task.FromResult(reply(Interlocked.Increment(ref n), options!)) };
    }

    [Fact]
    public async Task IterationLimit_LastReplyIsAFinalCall_ItsAnswerIsTaken_NoRetry()
    {
        var root = IgnoresToolChoice((_, options) => options.ToolMode == ChatToolMode.None
            ? TestChatClient.Calls(("final", new { answer = "line 042 is the one" }))
            : TestChatClient.Calls(("grep", new { pattern = "line 04" })));
        var options = new RlmOptions { MaxIterations = 2 }; // the real retry policy (1 s base delay): a retry would show

        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.IterationLimit, result.StopReason);
        Assert.Equal("line 042 is the one", result.Answer);
        Assert.Equal(3, root.Requests.Count); // two iterations and one last call
        Assert.Equal(ChatToolMode.None, root.Requests[^1].Options!.ToolMode);
        Assert.Equal(0, result.Statistics.ModelRetries);
        Assert.Equal(0, result.Statistics.FailedModelCalls);
        Assert.NotNull(result.StopMessage);
    }

    [Fact]
    public async Task IterationLimit_LastReplyIsAnotherToolCall_BestAnswerSoFar_NoRetry()
    {
        var root = IgnoresToolChoice((n, _) => new ChatResponse(new ChatMessage(ChatRole.Assistant,
            [new TextContent(n == 1 ? "So far: line 042 looks right." : ""), new FunctionCallContent($"c{n}", "grep", new Dictionary<string, object?> { ["pattern"] = "line" })])));

        var result = await new RecursiveLanguageModel(root, options: new RlmOptions { MaxIterations = 3 }).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.IterationLimit, result.StopReason);
        Assert.Equal("So far: line 042 looks right.", result.Answer);
        Assert.Equal(4, root.Requests.Count);
        Assert.Equal(0, result.Statistics.ModelRetries);
    }

    [Fact]
    public async Task IterationLimit_NoTextEver_EmptyAnswer_AndAStopMessage()
    {
        var root = IgnoresToolChoice((_, _) => TestChatClient.Calls(("peek", new { start = 0, end = 10 })));

        var result = await new RecursiveLanguageModel(root, options: new RlmOptions { MaxIterations = 2 }).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.IterationLimit, result.StopReason);
        Assert.Equal("", result.Answer);
        Assert.Equal("The run stopped without an answer: the model used all its iterations.", result.StopMessage);
        Assert.Equal(0, result.Statistics.ModelRetries);
    }

    [Fact]
    public async Task ErrorLimit_LastReplyIsAFinalVarCall_TheVariableIsTheAnswer()
    {
        int n = 0;
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, options, _) => Task.FromResult(Interlocked.Increment(ref n) switch
            {
                1 => TestChatClient.Calls(("set_variable", new { name = "found", value = "rows 1 to 3" })),
                _ when options!.ToolMode == ChatToolMode.None => TestChatClient.Calls(("final_var", new { name = "found" })),
                _ => TestChatClient.Calls(("grep", new { pattern = "(" + n })), // an invalid pattern: a tool error
            }),
        };

        var result = await new RecursiveLanguageModel(root, options: new RlmOptions { MaxConsecutiveErrors = 2 }).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.ErrorLimit, result.StopReason);
        Assert.Equal("rows 1 to 3", result.Answer);
        Assert.Equal(0, result.Statistics.ModelRetries);
    }

    [Fact]
    public async Task LastCall_ThatFailsForGood_StillEndsInAResult()
    {
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, options, _) => options!.ToolMode == ChatToolMode.None
                ? throw new HttpRequestException("bad gateway", null, HttpStatusCode.BadGateway)
                : Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant,
                    [new TextContent("probably line 7"), new FunctionCallContent(Guid.NewGuid().ToString("N"), "peek", new Dictionary<string, object?> { ["start"] = 0, ["end"] = 5 })]))),
        };
        var options = Retrying();
        options.MaxIterations = 1;

        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.IterationLimit, result.StopReason);
        Assert.Equal("probably line 7", result.Answer);
        Assert.Equal(1, result.Statistics.FailedModelCalls);
    }

    [Fact]
    public async Task TokenBudget_WithoutAnyReplyText_AnswerIsEmpty_StopMessageSaysWhy()
    {
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Calls(new UsageDetails { InputTokenCount = 600, OutputTokenCount = 10 }, ("peek", new { start = 0, end = 10 }))),
        };

        var result = await new RecursiveLanguageModel(root, options: new RlmOptions { MaxTotalTokens = 1_000 }).QueryAsync("q?", s_context);

        Assert.Equal(RlmStopReason.TokenBudget, result.StopReason);
        Assert.Equal("", result.Answer);
        Assert.Equal("The run stopped without an answer: the run's token budget was spent.", result.StopMessage);
        Assert.DoesNotContain("budget", result.Answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FinalAnswer_HasNoStopMessage()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "done" })));

        var result = await new RecursiveLanguageModel(root).QueryAsync("q?", s_context);

        Assert.Equal("done", result.Answer);
        Assert.Null(result.StopMessage);
    }

    [Fact]
    public async Task ModelFailure_PartialResult_StopMessageIsTheFailure()
    {
        var root = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => throw new HttpRequestException("unauthorized", null, HttpStatusCode.Unauthorized) };

        var e = await Assert.ThrowsAsync<RlmModelException>(() => new RecursiveLanguageModel(root).QueryAsync("q?", s_context));

        Assert.Equal("", e.PartialResult!.Answer);
        Assert.StartsWith("The run stopped without an answer: the root model request failed after 1 attempt", e.PartialResult.StopMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnpricedModel_CostIsNull_AndTheJsonSaysWhy()
    {
        var root = new ScriptedChatClient(_ => new ChatResponse(new ChatMessage(ChatRole.Assistant,
            [new FunctionCallContent("c1", "final", new Dictionary<string, object?> { ["answer"] = "done" })]))
        {
            ModelId = "llama-local",
            Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 2 },
        });

        var result = await new RecursiveLanguageModel(root).QueryAsync("q?", s_context);
        var json = JsonSerializer.SerializeToElement(RlmJson.CreateResult(result, null, null), RlmJson.Compact.RunJson);

        Assert.Null(result.CostUsd);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("cost_usd").ValueKind);
        string note = json.GetProperty("cost_note").GetString()!;
        Assert.Contains("'llama-local'", note, StringComparison.Ordinal);
        Assert.Contains("RlmOptions.Prices", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PricedModel_HasNoCostNote()
    {
        var root = new ScriptedChatClient(_ => new ChatResponse(new ChatMessage(ChatRole.Assistant,
            [new FunctionCallContent("c1", "final", new Dictionary<string, object?> { ["answer"] = "done" })]))
        {
            ModelId = "gpt-4.1-mini",
            Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 2 },
        });

        var result = await new RecursiveLanguageModel(root).QueryAsync("q?", s_context);
        var json = JsonSerializer.SerializeToElement(RlmJson.CreateResult(result, null, null), RlmJson.Compact.RunJson);

        Assert.NotNull(result.CostUsd);
        Assert.False(json.TryGetProperty("cost_note", out _));
    }
}
