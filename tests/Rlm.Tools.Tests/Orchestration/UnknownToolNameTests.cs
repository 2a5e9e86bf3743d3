using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// A tool name the model invents is model text (it may quote the context, and has no bound): it is recorded as
/// <c>unknown</c> everywhere but the model's own error result and a sensitive trajectory.
/// </summary>
public sealed class UnknownToolNameTests
{
    private const string Invented = "leak_the_vault_code_4417";

    [Fact]
    public async Task InventedName_IsUnknownInStatisticsEventsSpansAndPlainTrajectories()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RlmTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var root = new ScriptedChatClient(
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant,
            [
                new FunctionCallContent("c1", Invented, new Dictionary<string, object?> { ["x"] = 1 }),
                new FunctionCallContent("c2", "peek", new Dictionary<string, object?> { ["start"] = 0, ["end"] = 10 }),
            ])),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var events = new ConcurrentQueue<RlmEvent>();
        var options = new RlmOptions { Progress = new SyncProgress(events.Enqueue) };

        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("q?", "some context text\n");

        // The model reads the name it used, to correct itself.
        Assert.StartsWith($"Error: unknown tool '{Invented}'", TestChatClient.LastToolResults(root.Requests[1])[0], StringComparison.Ordinal);

        Assert.Equal(1, result.Statistics.ToolCalls["unknown"]);
        Assert.Equal(1, result.Statistics.ToolCalls["peek"]);
        Assert.DoesNotContain(Invented, result.Statistics.ToolCalls.Keys);

        string allEvents = string.Join("\n", events.Select(e => e + " " + e.Describe()));
        Assert.DoesNotContain(Invented, allEvents, StringComparison.Ordinal);
        Assert.Contains(events.OfType<RlmToolCallStarted>(), e => e.Name == "unknown" && e.Arguments.StartsWith("unknown(", StringComparison.Ordinal));
        Assert.Contains(events.OfType<RlmParallelCalls>(), e => e.Names.SequenceEqual(["unknown", "peek"]));

        var toolSpans = spans.Where(s => s.OperationName.StartsWith("execute_tool", StringComparison.Ordinal)).ToList();
        Assert.Contains(toolSpans, s => s.DisplayName == "execute_tool unknown" && (string?)s.GetTagItem("gen_ai.tool.name") == "unknown");
        Assert.DoesNotContain(toolSpans, s => s.DisplayName.Contains(Invented, StringComparison.Ordinal));

        var plain = new StringWriter();
        RlmTrajectoryWriter.WriteJsonLines(result, plain, new RlmTrajectoryOptions());
        Assert.DoesNotContain(Invented, plain.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"label\":\"unknown(…)\"", plain.ToString(), StringComparison.Ordinal);

        // A sensitive trajectory keeps what the model sent, as it keeps arguments.
        var sensitive = new StringWriter();
        RlmTrajectoryWriter.WriteJsonLines(result, sensitive, new RlmTrajectoryOptions { IncludeSensitiveData = true });
        Assert.Contains(Invented, sensitive.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TraceSummaries_OfToolResults_AreRedacted()
    {
        const string Groq = "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";
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("peek", new { start = 0, end = 200 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));

        var result = await new RecursiveLanguageModel(root).QueryAsync("q?", $"config: GROQ={Groq}\n");

        // The model reads the document as it is; the record of the run does not keep the key.
        Assert.Contains(Groq, TestChatClient.LastToolResults(root.Requests[1])[0], StringComparison.Ordinal);
        var sensitive = new StringWriter();
        RlmTrajectoryWriter.WriteJsonLines(result, sensitive, new RlmTrajectoryOptions { IncludeSensitiveData = true });
        Assert.Contains("GROQ=[REDACTED]", sensitive.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Groq, sensitive.ToString(), StringComparison.Ordinal);
    }

    private sealed class SyncProgress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }
}
