using ModelContextProtocol;

namespace Rlm.Tools.Mcp;

/// <summary>
/// Forwards the engine's progress events of one query to the MCP client as <c>notifications/progress</c>: one per
/// iteration (a session's model request), sub-call start and end, and retry. The progress value counts events, so it
/// only increases, as the protocol requires; there is no total (the number of iterations is not known in advance).
/// </summary>
internal sealed class McpProgressAdapter(IProgress<ProgressNotificationValue> target) : IProgress<RlmProgressEvent>
{
    private int _count;

    /// <inheritdoc />
    public void Report(RlmProgressEvent value)
    {
        if (value.Kind is not (RlmProgressKind.Iteration or RlmProgressKind.SubCallStarted or RlmProgressKind.SubCallCompleted or RlmProgressKind.ModelRetry))
        {
            return;
        }

        int count = Interlocked.Increment(ref _count);
        string message = value.Message.ReplaceLineEndings(" ");
        target.Report(new ProgressNotificationValue
        {
            Progress = count,
            Message = value.Kind == RlmProgressKind.ModelRetry ? $"retry (depth {value.Depth}): {message}" : message,
        });
    }
}
