using ModelContextProtocol;

namespace Rlm.Tools.Mcp;

/// <summary>
/// Turns the engine's events of one query (the per-call progress of <see cref="RecursiveLanguageModel.AsAIFunction(RlmCorpus, RlmCorpusToolOptions)"/>: the same events
/// <see cref="RecursiveLanguageModel.QueryStreamingAsync(string, RlmCorpus, CancellationToken)"/> yields) into MCP
/// <c>notifications/progress</c> for the client: one per iteration (a session's model request, or its last request for
/// an answer), sub-call start and end, retry and budget warning, and while the query waits for its turn, with the event's one-line text
/// (<see cref="RlmEvent.Describe"/>). The progress value counts notifications, so it only increases, as the protocol
/// requires; there is no total (the number of iterations is not known in advance).
/// </summary>
/// <param name="target">The client's progress for one request.</param>
internal sealed class McpProgressAdapter(IProgress<ProgressNotificationValue> target) : IProgress<RlmEvent>
{
    private readonly Lock _lock = new();
    private int _count;

    /// <inheritdoc />
    public void Report(RlmEvent value)
    {
        if (Message(value) is not { } message)
        {
            return;
        }

        // Parallel sub-calls report from many threads: the count and the hand-over stay in one order.
        lock (_lock)
        {
            target.Report(new ProgressNotificationValue { Progress = ++_count, Message = message });
        }
    }

    /// <summary>The notification's message for an event, or <see langword="null"/> for events not sent (tool calls, model responses, the run's end).</summary>
    internal static string? Message(RlmEvent value)
    {
        string text = value.Describe().ReplaceLineEndings(" ");
        return value switch
        {
            RlmIterationStarted or RlmIterationsStopped or RlmSubCallStarted or RlmSubCallEnded or RlmSubCallMemoized or RlmConversationCompacted => text,
            RlmSubCallSplit or RlmSubCallBatchRefused => text,
            RlmModelRetry => $"retry (depth {value.Depth}): {text}",
            RlmBudgetWarning => $"budget: {text}",
            RlmQueryQueued => text,
            _ => null,
        };
    }
}
