using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public sealed class EventStreamTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3}\n"));

    [Fact]
    public async Task QueryStreamingAsync_YieldsTypedEventsInOrder_EndingWithTheResult()
    {
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("found it", new UsageDetails { InputTokenCount = 50, OutputTokenCount = 5 })) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(new UsageDetails { InputTokenCount = 20, OutputTokenCount = 2 }, ("sub_llm", new { query = "a", start = 0, end = 100 }), ("sub_llm", new { query = "b", start = 100, end = 200 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));

        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, worker).QueryStreamingAsync("q?", RlmCorpus.FromText(s_context)))
        {
            events.Add(e);
        }

        Assert.IsType<RlmIterationStarted>(events[0]);
        var completed = Assert.IsType<RlmRunCompleted>(events[^1]);
        Assert.Equal("done", completed.Answer);
        Assert.Equal(RlmStopReason.Final, completed.Result.StopReason);
        Assert.Equal(2, events.OfType<RlmSubCallStarted>().Count(e => e.Depth == 1 && e.IsLeaf));
        Assert.Equal(2, events.OfType<RlmSubCallEnded>().Count(e => !e.Failed && e.Excerpt == "found it"));
        Assert.Equal(2, events.OfType<RlmModelResponded>().Count(e => e.Role == "worker" && e.Usage!.InputTokenCount == 50));
        var rootResponse = events.OfType<RlmModelResponded>().First(e => e.Role == "root");
        Assert.Equal(2, rootResponse.FunctionCalls);
        Assert.Equal(3, events.OfType<RlmToolCallStarted>().Count()); // sub_llm x2, final
        Assert.Contains(events.OfType<RlmToolCallEnded>(), e => e.Name == "sub_llm" && e.ResultExcerpt == "found it");
        Assert.True(events.IndexOf(events.OfType<RlmSubCallStarted>().First()) < events.IndexOf(events.OfType<RlmSubCallEnded>().First()));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Elapsed <= p.Second.Elapsed + TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task StoppingTheEnumerationEarly_CancelsTheRun()
    {
        var canceled = new TaskCompletionSource();
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    canceled.TrySetResult();
                    throw;
                }

                return TestChatClient.Text("never");
            },
        };

        await foreach (var e in new RecursiveLanguageModel(root).QueryStreamingAsync("q?", s_context))
        {
            Assert.IsType<RlmIterationStarted>(e);
            break;
        }

        await canceled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task BudgetWarnings_AreEvents()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 0 }, ("peek", new { start = 0, end = 5 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, options: new RlmOptions { MaxTotalTokens = 1_000 }).QueryStreamingAsync("q?", s_context))
        {
            events.Add(e);
        }

        Assert.Contains(events, e => e is RlmBudgetWarning);
        Assert.Equal(RlmStopReason.TokenBudget, Assert.IsType<RlmRunCompleted>(events[^1]).Result.StopReason);
    }
}
