using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>Events arrive in order of their <see cref="RlmEvent.Elapsed"/>, however many parallel calls emit them.</summary>
public sealed class EventOrderTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 2_000).Select(i => $"line {i:D4} of the log\n"));

    [Fact]
    public async Task ConcurrentFanOut_ElapsedNeverDecreases_InTheStream_AndInProgress()
    {
        // 24 parallel sub-calls and 24 greps per reply, on workers that answer after random short delays: many threads emit at
        // once, and each event is redacted (50 secrets, as a host with keys has) between its making and its sending.
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                await Task.Delay(Random.Shared.Next(0, 5), ct);
                return TestChatClient.Text("found it");
            },
        };
        var fanOut = Enumerable.Range(0, 24).Select(i => ("sub_llm", (object)new { query = $"part {i}?", start = i * 100, end = i * 100 + 100 }))
            .Concat(Enumerable.Range(0, 24).Select(i => ("grep", (object)new { pattern = $"line {i:D4}" })))
            .ToArray();
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(fanOut),
            _ => TestChatClient.Calls(fanOut),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        // A receiver that takes a little time per event, as a console or UI one does; it records overlapping calls.
        var progress = new ConcurrentQueue<RlmEvent>();
        int inside = 0, overlaps = 0;
        var receiver = new SyncProgress(e =>
        {
            if (Interlocked.Increment(ref inside) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            Thread.SpinWait(Random.Shared.Next(0, 20_000));
            progress.Enqueue(e);
            Interlocked.Decrement(ref inside);
        });
        var options = new RlmOptions
        {
            RedactedValues = [.. Enumerable.Range(0, 50).Select(i => $"sk-secret-value-{i:D3}-abcdef")],
            MaxConcurrency = 16,
            MaxFunctionCallsPerReply = 100,
            MaxSubCalls = 100,
            Progress = receiver,
        };

        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, worker, options).QueryStreamingAsync("q?", RlmCorpus.FromText(s_context)))
        {
            events.Add(e);
        }

        Assert.True(events.Count > 150, $"{events.Count} events");
        Assert.IsType<RlmRunCompleted>(events[^1]);
        AssertNonDecreasing(events);
        AssertNonDecreasing([.. progress]);
        Assert.Equal(events, progress); // the same events, in the same order
        Assert.Equal(0, overlaps); // one event at a time, as RlmOptions.Progress promises
    }

    private static void AssertNonDecreasing(IReadOnlyList<RlmEvent> events)
    {
        for (int i = 1; i < events.Count; i++)
        {
            Assert.True(events[i].Elapsed >= events[i - 1].Elapsed,
                $"event {i} ({events[i].GetType().Name}, {events[i].Elapsed.TotalMilliseconds} ms) is earlier than event {i - 1} ({events[i - 1].GetType().Name}, {events[i - 1].Elapsed.TotalMilliseconds} ms)");
        }
    }

    private sealed class SyncProgress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }
}
