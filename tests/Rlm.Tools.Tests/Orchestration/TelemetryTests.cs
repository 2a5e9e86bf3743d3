using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public sealed class TelemetryTests : IDisposable
{
    private static readonly ActivitySource s_testSource = new("Rlm.Tools.Tests.Telemetry");
    private readonly ConcurrentBag<Activity> _stopped = [];
    private readonly ActivityListener _listener;

    public TelemetryTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is RlmTelemetry.SourceName or "Rlm.Tools.Tests.Telemetry",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Query_EmitsNestedSpans_CallerSpanIsCurrentInsideTheClient_NoChatSpansOfItsOwn()
    {
        var seenInClient = new ConcurrentBag<string?>();
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) =>
            {
                seenInClient.Add(Activity.Current?.OperationName);
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "w")) { ModelId = "mini-1", Usage = new UsageDetails { InputTokenCount = 11, OutputTokenCount = 2 } });
            },
        };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("sub_llm", new { query = "a", start = 0, end = 5 }), ("grep", new { pattern = "(" })),
            _ => TestChatClient.Calls(("final", new { answer = "x" })));

        string traceId;
        using (var testRoot = s_testSource.StartActivity("test"))
        {
            traceId = testRoot!.TraceId.ToString();
            await new RecursiveLanguageModel(root, worker, new RlmOptions { WorkerModelId = "mini" }).QueryAsync("q", "some context text");
        }

        var spans = _stopped.Where(a => a.TraceId.ToString() == traceId).ToList();
        var query = Assert.Single(spans, a => a.OperationName == "rlm.query");
        Assert.Equal(17, query.GetTagItem("rlm.context.chars"));
        Assert.Equal("final", query.GetTagItem("rlm.stop_reason"));
        Assert.Equal(1, query.GetTagItem("rlm.sub_calls"));

        var subCall = Assert.Single(spans, a => a.OperationName == "rlm.sub_call");
        Assert.Contains("rlm.sub_call", seenInClient); // the dispatcher worker runs the request inside the caller's span
        Assert.DoesNotContain(spans, a => a.OperationName.StartsWith("chat", StringComparison.Ordinal)); // OpenTelemetryChatClient's job

        var grep = Assert.Single(spans, a => a.OperationName == "execute_tool grep");
        Assert.Equal(ActivityStatusCode.Error, grep.Status);
        Assert.Equal("grep", grep.GetTagItem("gen_ai.tool.name"));
        var subLlm = Assert.Single(spans, a => a.OperationName == "execute_tool sub_llm");
        Assert.Equal(subLlm.SpanId, subCall.ParentSpanId);
        Assert.All(spans.Where(a => a.OperationName != "rlm.query" && a.OperationName != "test"), a => Assert.NotEqual(default, a.ParentSpanId));
    }

    [Fact]
    public async Task Query_RecordsSubCallAndToolMetrics_ButNoGenAiClientMetrics()
    {
        var seen = new ConcurrentBag<(string Instrument, long Value)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RlmTelemetry.SourceName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen.Add((instrument.Name, value)));
        meterListener.SetMeasurementEventCallback<double>((instrument, value, _, _) => seen.Add((instrument.Name, (long)value)));
        meterListener.Start();

        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Text("w", new UsageDetails { InputTokenCount = 5 })) };
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(new UsageDetails { InputTokenCount = 40, OutputTokenCount = 3 }, ("sub_llm", new { query = "a", start = 0, end = 3 })),
            _ => TestChatClient.Calls(("final", new { answer = "x" })));
        await new RecursiveLanguageModel(root, worker).QueryAsync("q", "ctx");

        Assert.Contains(seen, m => m.Instrument == "rlm.sub_calls");
        Assert.Contains(seen, m => m.Instrument == "rlm.tool.calls");
        Assert.DoesNotContain(seen, m => m.Instrument.StartsWith("gen_ai.client.", StringComparison.Ordinal));
    }
}
