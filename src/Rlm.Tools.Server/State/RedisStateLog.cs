using Microsoft.Extensions.Logging;

namespace Rlm.Tools.Server.State;

/// <summary>The log lines of the Redis connection shared by the state stores, the sub-call cache and the provider limiter.</summary>
internal static partial class RedisStateLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Redis at {Endpoint} is unavailable ({Reason}): conversations, uploaded corpora, sub-call answers and the provider concurrency limit are local to this replica until it is back")]
    public static partial void Lost(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Redis at {Endpoint} is connected: state and the provider concurrency limit are shared by the replicas")]
    public static partial void Connected(ILogger logger, string endpoint);
}
