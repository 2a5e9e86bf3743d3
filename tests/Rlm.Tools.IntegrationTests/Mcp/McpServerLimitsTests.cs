using System.Collections.Concurrent;
using System.Diagnostics;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Mcp;

/// <summary>
/// <c>rlm mcp</c> holds its load against clients it does not trust: a real <c>rlm mcp</c> process and the official C# MCP
/// client, the model a loopback OpenAI-compatible server that can hold a request open.
/// </summary>
public sealed class McpServerLimitsTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private const string FakeKey = "sk-test-MCP-limits-9f8e7d6c5b4a";

    private readonly TempDirectory _corpus = McpServerTests.CreateCorpus();

    public void Dispose() => _corpus.Dispose();

    [Fact]
    public async Task QueryPastTheConcurrentLimit_WaitsWithProgress_ThenGetsABusyError_AfterTheQueueTimeout()
    {
        // The first query's model request is held open, so it keeps the only turn.
        var scenario = server.NewScenario((context, _) => Task.Delay(Timeout.Infinite, context.RequestAborted));
        await using var rlm = await RlmMcpClient.StartAsync(
            ["--dir", _corpus.Path, "--base-url", scenario.Endpoint.ToString(), "--max-concurrent-queries", "1", "--queue-timeout", "2"],
            new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        using var first = new CancellationTokenSource();
        var running = rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" }, cancellationToken: first.Token).AsTask();
        await scenario.FirstRequest.WaitAsync(TimeSpan.FromSeconds(60));

        var progress = new ConcurrentQueue<ProgressNotificationValue>();
        var stopwatch = Stopwatch.StartNew();
        var waiting = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "And the fuel lines?" },
            progress: new SynchronousProgress(progress.Enqueue)).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        stopwatch.Stop();

        string text = McpServerTests.Text(waiting);
        output.WriteLine($"{stopwatch.Elapsed.TotalSeconds:F1} s: {text}");
        foreach (var value in progress)
        {
            output.WriteLine($"{value.Progress}: {value.Message}");
        }

        Assert.True(waiting.IsError);
        Assert.Equal("the server is busy: 1 queries are running, the most it runs at once, and this query waited 2 s for its turn, the longest a query waits. Try again later.", text);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(30));
        Assert.Contains(progress, p => p.Message?.StartsWith("waiting for a turn: 1 of at most 1 queries are running", StringComparison.Ordinal) == true);
        Assert.Single(scenario.Requests); // the refused query never reached the model
        Assert.False(running.IsCompleted);

        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.StartsWith("3 documents", McpServerTests.Text(await rlm.Client.CallToolAsync("list_documents")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverlongQuestion_IsRefused_WithAClearError_AndTheServerGoesOn()
    {
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path, "--max-question-chars", "40"]);

        var refused = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = new string('x', 41) });
        var answered = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });

        Assert.True(refused.IsError);
        Assert.StartsWith("The question argument has 41 characters, more than the 40 this tool takes. Ask a shorter question; the corpus is already on the server.", McpServerTests.Text(refused), StringComparison.Ordinal);
        Assert.NotEqual(true, answered.IsError);
        Assert.Contains("TANGO-4471", McpServerTests.Text(answered), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryTool_StatesTheDefaultBudgetsAndLimits_AndTheOnesGiven()
    {
        await using (var defaults = await RlmMcpClient.StartAsync(["--dir", _corpus.Path]))
        {
            string description = (await defaults.Client.ListToolsAsync()).Single(t => t.Name == "query").Description;
            output.WriteLine(description);
            Assert.EndsWith("Limits: questions up to 100,000 characters; each query runs at most 600 s and 1,000,000 tokens; 4 queries run at once, others wait up to 120 s.", description, StringComparison.Ordinal);
        }

        await using var given = await RlmMcpClient.StartAsync(["--dir", _corpus.Path, "--max-time", "30", "--max-tokens", "5000", "--max-concurrent-queries", "2", "--queue-timeout", "9.5"]);
        string stated = (await given.Client.ListToolsAsync()).Single(t => t.Name == "query").Description;
        Assert.EndsWith("each query runs at most 30 s and 5,000 tokens; 2 queries run at once, others wait up to 9.5 s.", stated, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--max-concurrent-queries must be at least 1 (got 0)", "--max-concurrent-queries", "0")]
    [InlineData("--queue-timeout must be a number of seconds from 0.001 to 86400 (got -1)", "--queue-timeout", "-1")]
    [InlineData("--max-question-chars must be at least 1 (got 0)", "--max-question-chars", "0")]
    public async Task BadServerLimit_IsAUsageError_BeforeServing(string expected, params string[] args)
    {
        var result = await RlmProcess.RunAsync(["mcp", "--dir", _corpus.Path, .. args]);

        RlmProcess.AssertUsageError(result, expected);
    }

    [Fact]
    public async Task Help_DocumentsTheServerLimits()
    {
        var help = await RlmProcess.RunAsync("mcp", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--max-concurrent-queries", help.StdOut, StringComparison.Ordinal);
        Assert.Contains("--queue-timeout", help.StdOut, StringComparison.Ordinal);
        Assert.Contains("--max-question-chars", help.StdOut, StringComparison.Ordinal);
        Assert.Contains("600 s and 1,000,000 tokens", help.StdOut.ReplaceLineEndings(" ").Replace("  ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    private sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
