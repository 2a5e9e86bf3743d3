using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>Named workers (<see cref="RlmOptions.Workers"/>): declared to the model, routed to, priced per model.</summary>
public class WorkerRoutingTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3} of the context\n"));

    /// <summary>A worker that answers with its own label and the question, reporting no model id (the requested one is booked).</summary>
    private static TestChatClient Worker(string label, long inputTokens = 100) => new()
    {
        GetResponseAsyncCallback = (messages, _, _) => Task.FromResult(
            TestChatClient.Text($"{label}: {QuestionOf(messages)}", new UsageDetails { InputTokenCount = inputTokens, OutputTokenCount = 10 })),
    };

    /// <summary>The question of a leaf request: the line inside <c>&lt;question&gt;</c> for a slice, the prompt itself for <c>llm_query</c>.</summary>
    private static string QuestionOf(IReadOnlyList<ChatMessage> messages)
    {
        string text = messages[^1].Text;
        return text.StartsWith("<question>\n", StringComparison.Ordinal) ? text.Split('\n')[1] : text;
    }

    [Fact]
    public async Task TwoNamedWorkers_EachGetsExactlyTheSubCallsMeantForIt_AndTheDefaultTheRest()
    {
        var fast = Worker("fast");
        var careful = Worker("careful");
        var fallback = Worker("default");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(
                ("sub_llm", new { query = "Q-fast-1", start = 0, end = 100, model = "fast" }),
                ("sub_llm", new { query = "Q-careful-1", start = 100, end = 200, model = "careful" }),
                ("sub_llm", new { query = "Q-default-1", start = 200, end = 300 }),
                ("sub_llm", new { query = "Q-fast-2", start = 300, end = 400, model = "fast" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions
        {
            WorkerModelId = "default-m",
            Workers =
            {
                new RlmWorker("fast", fast, "fast-m", contextWindow: 8_000, description: "cheap, for extraction"),
                new RlmWorker("careful", careful, "careful-m", description: "slow, for reasoning"),
            },
        };

        var result = await new RecursiveLanguageModel(root, fallback, options).QueryAsync("q", s_context);

        Assert.Equal(["Q-fast-1", "Q-fast-2"], fast.Requests.Select(r => QuestionOf(r.Messages)).Order(StringComparer.Ordinal));
        Assert.All(fast.Requests, r => Assert.Equal("fast-m", r.Options!.ModelId));
        Assert.Equal(2, fast.Requests.Count);
        Assert.Single(careful.Requests);
        Assert.Equal("Q-careful-1", QuestionOf(careful.Requests[0].Messages));
        Assert.Equal("careful-m", careful.Requests[0].Options!.ModelId);
        Assert.Single(fallback.Requests);
        Assert.Equal("Q-default-1", QuestionOf(fallback.Requests[0].Messages));
        Assert.Equal("default-m", fallback.Requests[0].Options!.ModelId);

        // The root read each worker's own answer.
        var answers = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.StartsWith("fast:", answers[0]);
        Assert.StartsWith("careful:", answers[1]);
        Assert.StartsWith("default:", answers[2]);
        Assert.StartsWith("fast:", answers[3]);

        // Usage stays per model.
        Assert.Equal(200, result.UsageByModel["fast-m"].InputTokenCount);
        Assert.Equal(100, result.UsageByModel["careful-m"].InputTokenCount);
        Assert.Equal(100, result.UsageByModel["default-m"].InputTokenCount);
    }

    [Fact]
    public async Task Workers_CostIsPricedPerModel()
    {
        var prices = new RlmPriceTable();
        prices.Set("root-m", new RlmModelPrice(0m, 0m, 0m));
        prices.Set("cheap-m", new RlmModelPrice(1m, 0m, 0m));
        prices.Set("dear-m", new RlmModelPrice(100m, 0m, 0m));
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(
                ("sub_llm", new { query = "a", start = 0, end = 100, model = "cheap" }),
                ("sub_llm", new { query = "b", start = 0, end = 100, model = "dear" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions
        {
            RootModelId = "root-m",
            WorkerModelId = "root-m",
            Prices = prices,
            Workers = { new RlmWorker("cheap", Worker("c", 1_000_000), "cheap-m"), new RlmWorker("dear", Worker("d", 1_000_000), "dear-m") },
        };

        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("q", s_context);

        // 1M input tokens at $1 and at $100 per million; the root's own calls are free and report no usage.
        Assert.Equal(101m, result.CostUsd);
        Assert.Empty(result.UnpricedModels);
    }

    [Fact]
    public async Task UnknownWorkerName_IsAToolErrorListingTheNames_AndSendsNothing()
    {
        var fast = Worker("fast");
        var fallback = Worker("default");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "Q", start = 0, end = 100, model = "gpt-9" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions { Workers = { new RlmWorker("fast", fast), new RlmWorker("slow-1", fast) } };

        var result = await new RecursiveLanguageModel(root, fallback, options).QueryAsync("q", s_context);

        string error = TestChatClient.LastToolResults(root.Requests[1]).Single();
        Assert.StartsWith("Error", error, StringComparison.Ordinal);
        Assert.Contains("unknown model 'gpt-9'", error, StringComparison.Ordinal);
        Assert.Contains("fast, slow-1", error, StringComparison.Ordinal);
        Assert.Empty(fast.Requests);
        Assert.Empty(fallback.Requests);
        Assert.Equal(0, result.Statistics.SubCalls);
    }

    [Fact]
    public async Task WithoutWorkers_ANamedModelIsAnError_AndTheDeclarationIsUnchanged()
    {
        var fallback = Worker("default");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "Q", start = 0, end = 100, model = "fast" }), ("sub_llm", new { query = "Q2", start = 0, end = 100 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));

        await new RecursiveLanguageModel(root, fallback, new RlmOptions { WorkerModelId = "w" }).QueryAsync("q", s_context);

        var results = TestChatClient.LastToolResults(root.Requests[1]);
        Assert.Contains("no named workers", results[0], StringComparison.Ordinal);
        Assert.StartsWith("default:", results[1]);
        Assert.Single(fallback.Requests);
        Assert.Equal("w", fallback.Requests[0].Options!.ModelId);
        var subLlm = Declaration(root.Options[0]!, "sub_llm");
        Assert.False(subLlm.GetProperty("properties").TryGetProperty("model", out _));
    }

    [Fact]
    public async Task Declaration_ModelIsAnOptionalEnumOfTheNames_WithTheirDescriptions()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions
        {
            Workers =
            {
                new RlmWorker("fast", Worker("f"), "fast-m", description: "cheap, for extraction"),
                new RlmWorker("careful", Worker("c")),
            },
        };

        await new RecursiveLanguageModel(root, options: options).QueryAsync("q", s_context);

        var schema = Declaration(root.Options[0]!, "sub_llm");
        var model = schema.GetProperty("properties").GetProperty("model");
        Assert.Equal("string", model.GetProperty("type").GetString());
        Assert.Equal(["fast", "careful"], model.GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("fast: cheap, for extraction; careful", model.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("model", schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["query", "start", "end"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        var execJs = root.Options[0]!.Tools!.OfType<AIFunctionDeclaration>().Single(t => t.Name == "exec_js");
        Assert.Contains("llm_query(prompt, {model})", execJs.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JavaScript_LlmQueryAndBatched_RouteByModelOption_AndAnUnknownNameFailsTheScript()
    {
        var fast = Worker("fast");
        var fallback = Worker("default");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new
            {
                code = "print(llm_query('JS-fast', { model: 'fast' })); print(llm_query('JS-default')); print(llm_query_batched(['JS-b1', 'JS-b2'], { model: 'fast' }).join('|')); print(llm_query('JS-name', 'fast'));",
            })),
            _ => TestChatClient.Calls(("exec_js", new { code = "llm_query('JS-x', { model: 'nope' })" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions { Workers = { new RlmWorker("fast", fast, "fast-m") } };

        await new RecursiveLanguageModel(root, fallback, options).QueryAsync("q", s_context);

        Assert.Equal(["JS-b1", "JS-b2", "JS-fast", "JS-name"], fast.Requests.Select(r => QuestionOf(r.Messages)).Order(StringComparer.Ordinal));
        Assert.Equal(["JS-default"], fallback.Requests.Select(r => QuestionOf(r.Messages)));
        string printed = TestChatClient.LastToolResults(root.Requests[1]).Single();
        Assert.Contains("fast: JS-fast", printed, StringComparison.Ordinal);
        Assert.Contains("default: JS-default", printed, StringComparison.Ordinal);
        Assert.Contains("fast: JS-b1|fast: JS-b2", printed, StringComparison.Ordinal);

        string failed = TestChatClient.LastToolResults(root.Requests[2]).Single();
        Assert.Contains("unknown model 'nope'", failed, StringComparison.Ordinal);
        Assert.Contains("the workers are: fast", failed, StringComparison.Ordinal);
        Assert.Equal(4, fast.Requests.Count);
    }

    [Fact]
    public async Task RecursiveSubCall_RunsItsWholeSessionOnTheNamedWorker()
    {
        // The named worker's session: one grep, then final. The default worker must see nothing.
        var careful = new ScriptedChatClient(
            _ => TestChatClient.Calls(("grep", new { pattern = "line 001" })),
            _ => TestChatClient.Calls(("final", new { answer = "careful answer" })));
        var fallback = Worker("default");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "Q", start = 0, end = 500, model = "careful" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions { MaxDepth = 2, Workers = { new RlmWorker("careful", careful, "careful-m") } };

        await new RecursiveLanguageModel(root, fallback, options).QueryAsync("q", s_context);

        Assert.Equal(2, careful.Requests.Count);
        Assert.All(careful.Options, o => Assert.Equal("careful-m", o!.ModelId));
        Assert.Empty(fallback.Requests);
        Assert.Equal("careful answer", TestChatClient.LastToolResults(root.Requests[1]).Single());
    }

    [Fact]
    public async Task Memoization_KeepsWorkersApart()
    {
        var fast = Worker("fast");
        var fallback = Worker("default");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(
                ("sub_llm", new { query = "same", start = 0, end = 100, model = "fast" }),
                ("sub_llm", new { query = "same", start = 0, end = 100 })),
            _ => TestChatClient.Calls(("sub_llm", new { query = "same", start = 0, end = 100, model = "fast" })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions { Workers = { new RlmWorker("fast", fast) } };

        var result = await new RecursiveLanguageModel(root, fallback, options).QueryAsync("q", s_context);

        Assert.Single(fast.Requests);
        Assert.Single(fallback.Requests);
        Assert.Equal(1, result.Statistics.MemoizedSubCalls);
        Assert.StartsWith("fast:", TestChatClient.LastToolResults(root.Requests[2]).Single());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("dot.name")]
    [InlineData("ünï")]
    public void WorkerName_OutsideTheToolNameCharset_IsRejected(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => new RlmWorker(name, new TestChatClient()));
        Assert.Contains("not valid", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new RlmWorker(new string('a', 65), new TestChatClient()));
        Assert.Equal("a-b_C9", new RlmWorker("a-b_C9", new TestChatClient()).Name);
    }

    [Fact]
    public void Workers_DuplicateNamesOrNull_AreRejectedAtConstruction_AndOtherArgumentsChecked()
    {
        var client = new TestChatClient();
        var duplicate = new RlmOptions { Workers = { new RlmWorker("w", client), new RlmWorker("w", client) } };
        var e = Assert.Throws<ArgumentException>(() => new RecursiveLanguageModel(client, options: duplicate));
        Assert.Contains("'w' is used twice", e.Message, StringComparison.Ordinal);

        var withNull = new RlmOptions();
        withNull.Workers.Add(null!);
        Assert.Throws<ArgumentException>(() => new RecursiveLanguageModel(client, options: withNull));

        Assert.Throws<ArgumentNullException>(() => new RlmWorker("w", null!));
        Assert.Throws<ArgumentNullException>(() => new RlmWorker(null!, client));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RlmWorker("w", client, contextWindow: 0));
        Assert.Throws<ArgumentNullException>(() => new RlmOptions().Workers = null!);
    }

    [Fact]
    public void Workers_DefaultIsEmpty_AndCloneCopiesTheList()
    {
        var options = new RlmOptions();
        Assert.Empty(options.Workers);

        options.Workers.Add(new RlmWorker("w", new TestChatClient(), "m", 1_000, "d"));
        var copy = options.Clone();
        copy.Workers.Clear();
        Assert.Single(options.Workers);

        var rlm = new RecursiveLanguageModel(new TestChatClient(), options: options);
        options.Workers.Clear();
        var worker = Assert.Single(rlm.Options.Workers);
        Assert.Equal(("w", "m", 1_000, "d"), (worker.Name, worker.ModelId, worker.ContextWindow, worker.Description));
    }

    private static JsonElement Declaration(ChatOptions options, string name) =>
        options.Tools!.OfType<AIFunctionDeclaration>().Single(t => t.Name == name).JsonSchema;
}
