using Microsoft.Extensions.Logging;

namespace Rlm.Tools;

/// <summary>
/// The engine's log messages (category <see cref="Category"/>), written through <see cref="RlmOptions.LoggerFactory"/>.
/// Above <see cref="LogLevel.Trace"/> they carry counts, names, depths and redacted provider errors only: never prompt,
/// context, answer or tool-argument text.
/// </summary>
internal static partial class RlmLog
{
    /// <summary>The logger category: <c>Rlm.Tools</c>.</summary>
    public const string Category = "Rlm.Tools";

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "RLM query started: {Chars} characters, {Lines} lines, {Documents} documents, max depth {MaxDepth}")]
    public static partial void QueryStarted(ILogger logger, int chars, int lines, int documents, int maxDepth);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "RLM query ended: {StopReason} after {Iterations} iterations, {ModelCalls} model calls ({Retries} retries), {SubCalls} sub-calls ({FailedSubCalls} failed), {InputTokens} input and {OutputTokens} output tokens, {ElapsedMs} ms")]
    public static partial void QueryCompleted(ILogger logger, RlmStopReason stopReason, int iterations, int modelCalls, int retries, int subCalls, int failedSubCalls, long inputTokens, long outputTokens, long elapsedMs);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "RLM query failed: {Error}")]
    public static partial void QueryFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Iteration {Iteration} of the {Role} session at depth {Depth}")]
    public static partial void Iteration(ILogger logger, int iteration, string role, int depth);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Tool call {Tool} at depth {Depth}")]
    public static partial void ToolCall(ILogger logger, string tool, int depth);

    [LoggerMessage(EventId = 12, Level = LogLevel.Trace, Message = "Tool call at depth {Depth}: {Call}")]
    public static partial void ToolCallDetail(ILogger logger, int depth, string call);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "{Refused} function calls of one reply at depth {Depth} not run: over the cap of {Cap} per reply")]
    public static partial void FunctionCallsRefused(ILogger logger, int refused, int cap, int depth);

    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Sub-call started at depth {Depth} over {Chars} characters ({Kind})")]
    public static partial void SubCallStarted(ILogger logger, int depth, int chars, string kind);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Sub-call at depth {Depth} failed: {Error}")]
    public static partial void SubCallFailed(ILogger logger, int depth, string error);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "The shared sub-call cache failed to {Operation} ({ErrorType}: {Error}); the sub-call goes on without it")]
    public static partial void SubCallCacheFailed(ILogger logger, string operation, string errorType, string error);

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "{Role} model request failed ({Failure}); retry {Retry} in {DelayMs} ms")]
    public static partial void ModelRetry(ILogger logger, string role, string failure, int retry, long delayMs);

    [LoggerMessage(EventId = 31, Level = LogLevel.Error, Message = "Model request failed for good: {Error}")]
    public static partial void ModelFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "{Role} reply stream broke off after {StartedCalls} started calls ({Failure}); the reply is cut there and not retried")]
    public static partial void ReplyCut(ILogger logger, string role, int startedCalls, string failure);
}
