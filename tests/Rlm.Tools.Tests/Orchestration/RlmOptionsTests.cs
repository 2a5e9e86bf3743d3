namespace Rlm.Tools.Tests.Orchestration;

public class RlmOptionsTests
{
    [Fact]
    public void RlmOptions_HasExpectedDefaults()
    {
        var o = new RlmOptions();
        Assert.Equal(30, o.MaxIterations);
        Assert.Equal(1, o.MaxDepth);
        Assert.Equal(8, o.MaxConcurrency);
        Assert.Equal(32, o.MaxFunctionCallsPerReply);
        Assert.Equal(10_000, o.MaxTraceNodes);
        Assert.Equal(100, o.MaxSubCalls);
        Assert.Equal(20_000, o.MaxToolOutputChars);
        Assert.Equal(400_000, o.MaxLeafChars);
        Assert.Equal(400_000, o.MaxConversationChars);
        Assert.True(o.CompactConversations);
        Assert.Equal(50, o.CompactionTargetPercent);
        Assert.True(o.MemoizeSubCalls);
        Assert.Equal(TimeSpan.FromSeconds(2), o.RegexTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), o.JavaScriptTimeout);
        Assert.Equal(50_000_000, o.JavaScriptMaxStatements);
        Assert.Equal(256, o.JavaScriptMaxRecursionDepth);
        Assert.Equal(512L * 1024 * 1024, o.JavaScriptMemoryLimitBytes);
        Assert.Null(o.RootModelId);
        Assert.Null(o.WorkerModelId);
        Assert.Null(o.RootSystemPrompt);
        Assert.Same(TimeProvider.System, o.TimeProvider);
        Assert.Equal(TimeSpan.FromSeconds(120), o.ModelRequestTimeout);
        Assert.Equal(4, o.MaxModelRetries);
        Assert.Equal(TimeSpan.FromSeconds(1), o.ModelRetryBaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), o.ModelRetryMaxDelay);
        Assert.Null(o.ConcurrencyLimiter);
        Assert.Null(o.SubCallCache);
        Assert.Empty(o.RedactedValues);
    }

    [Fact]
    public void RlmOptions_RejectsValuesThatWouldMeanUnlimited()
    {
        var o = new RlmOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxIterations = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxDepth = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxDepth = 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.CompactionTargetPercent = 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.CompactionTargetPercent = 91);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxConcurrency = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxSubCalls = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxToolOutputChars = 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxConversationChars = 999);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.RegexTimeout = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.JavaScriptTimeout = TimeSpan.FromSeconds(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => o.JavaScriptMemoryLimitBytes = 1000);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.ModelRequestTimeout = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.ModelRequestTimeout = TimeSpan.FromMilliseconds(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => o.ModelRequestTimeout = TimeSpan.FromDays(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => o.ModelRetryMaxDelay = TimeSpan.FromDays(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxModelRetries = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxModelRetries = 21);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.ModelRetryBaseDelay = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.ModelRetryMaxDelay = TimeSpan.FromSeconds(-1));
        o.MaxModelRetries = 0; // retries off is a valid choice
        Assert.Equal(0, o.MaxModelRetries);
    }

    [Fact]
    public void Clone_CopiesTheRedactedValues()
    {
        var options = new RlmOptions();
        options.RedactedValues.Add("secret-1");
        var copy = options.Clone();
        options.RedactedValues.Add("secret-2");
        Assert.Equal(["secret-1"], copy.RedactedValues);
    }

    [Fact]
    public void RecursiveLanguageModel_CopiesOptions()
    {
        var options = new RlmOptions { MaxDepth = 2 };
        var rlm = new RecursiveLanguageModel(new TestSupport.ScriptedChatClient(), options: options);
        options.MaxDepth = 5;
        Assert.Equal(2, rlm.Options.MaxDepth);
    }

    [Fact]
    public async Task RecursiveLanguageModel_Options_IsACopy_ChangingItChangesNoRun()
    {
        var root = new TestSupport.TestChatClient
        {
            // Tools while it may call them; the last, tool-less request gets the best answer so far as text.
            GetResponseAsyncCallback = (_, chatOptions, _) => Task.FromResult(chatOptions?.ToolMode is Microsoft.Extensions.AI.NoneChatToolMode
                ? new Microsoft.Extensions.AI.ChatResponse(new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.Assistant, "best so far"))
                : TestSupport.TestChatClient.Calls(("peek", new { start = 0, end = 5 }))),
        };
        var rlm = new RecursiveLanguageModel(root, options: new RlmOptions { MaxIterations = 3 });

        rlm.Options.MaxIterations = 1;
        rlm.Options.Tools.Add(Microsoft.Extensions.AI.AIFunctionFactory.Create(() => "mine", "grep"));
        var result = await rlm.QueryAsync("q", "some context\n");

        Assert.NotSame(rlm.Options, rlm.Options);
        Assert.Equal(3, rlm.Options.MaxIterations);
        Assert.Empty(rlm.Options.Tools); // the clashing "grep" never reached the instance the constructor checked
        Assert.Equal(RlmStopReason.IterationLimit, result.StopReason);
        Assert.Equal(3, result.Statistics.RootIterations);
    }

    [Fact]
    public void Prompts_AreEmbedded_AndPlaceholdersRender()
    {
        Assert.Contains("{{context_chars}}", RlmPrompts.Root);
        Assert.Contains("ES2023", RlmPrompts.Root);
        Assert.DoesNotContain("ES5", RlmPrompts.Root);
        Assert.DoesNotContain("ES5", RlmPrompts.Worker);
        Assert.Contains("final", RlmPrompts.Worker);
        Assert.Contains("not found in this slice", RlmPrompts.Leaf);
        Assert.Equal("a 12 b {{other}}", RlmPrompts.Render("a {{n}} b {{other}}", new Dictionary<string, string> { ["n"] = "12" }));
    }

    [Fact]
    public async Task PromptOverride_ReplacesTheRootPrompt()
    {
        var root = new TestSupport.ScriptedChatClient(_ => TestSupport.TestChatClient.Calls(("final", new { answer = "x" })));
        await new RecursiveLanguageModel(root, options: new RlmOptions { RootSystemPrompt = "Custom: {{context_chars}} chars" }).QueryAsync("q", "12345");
        Assert.Equal("Custom: 5 chars", root.Requests[0][0].Text);
    }
}
