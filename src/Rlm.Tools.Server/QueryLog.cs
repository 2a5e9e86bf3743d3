using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Rlm.Tools.Server;

/// <summary>The one log line per query (route, client, outcome, tokens, time): never the question, the answer or a key.</summary>
internal sealed partial class QueryLog(ILogger<QueryLog> logger)
{
    public void Answered(string route, string client, RlmResult result, long startedTimestamp) =>
        LogAnswered(route, client, result.StopReason, result.Usage.TotalTokenCount ?? 0, Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds);

    public void Failed(string route, string client, int status, long startedTimestamp) =>
        LogFailed(route, client, status, Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds);

    public void Canceled(string route, string client, long startedTimestamp) =>
        LogCanceled(route, client, Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "query {Route} from {Client}: {StopReason}, {Tokens} tokens, {Milliseconds:F0} ms")]
    private partial void LogAnswered(string route, string client, RlmStopReason stopReason, long tokens, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "query {Route} from {Client}: failed with {Status} after {Milliseconds:F0} ms")]
    private partial void LogFailed(string route, string client, int status, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "query {Route} from {Client}: canceled after {Milliseconds:F0} ms")]
    private partial void LogCanceled(string route, string client, double milliseconds);
}
