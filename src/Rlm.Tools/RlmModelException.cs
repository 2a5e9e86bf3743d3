namespace Rlm.Tools;

/// <summary>Why a model request failed for good.</summary>
public enum RlmModelFailureKind
{
    /// <summary>
    /// Not a known transient failure: an exception of the client itself (<see cref="NullReferenceException"/>,
    /// <see cref="ArgumentException"/>, <see cref="InvalidOperationException"/>, …). Not retried;
    /// <see cref="Exception.InnerException"/> is the original exception.
    /// </summary>
    Unknown,

    /// <summary>An attempt ran longer than <see cref="RlmOptions.ModelRequestTimeout"/>, or the client timed out itself.</summary>
    Timeout,

    /// <summary>The provider answered HTTP 429, or a shared <see cref="RlmOptions.ConcurrencyLimiter"/> refused a permit.</summary>
    RateLimited,

    /// <summary>The provider answered HTTP 5xx (or 408, 409, 425).</summary>
    ServerError,

    /// <summary>The connection failed or was reset before a response arrived.</summary>
    Transport,

    /// <summary>
    /// A response arrived but could not be read: malformed or truncated JSON, no choices, unknown values (a client reports
    /// it with <see cref="System.Text.Json.JsonException"/>, <see cref="FormatException"/> or <see cref="InvalidDataException"/>).
    /// </summary>
    InvalidResponse,

    /// <summary>A response arrived with neither text nor function calls (for a request that allows no tools: no text).</summary>
    EmptyResponse,

    /// <summary>The provider refused the request (HTTP 4xx other than 408, 409, 425 and 429: a bad key, an unknown model, a bad request). Not retried.</summary>
    ClientError,
}

/// <summary>
/// Thrown by <see cref="RecursiveLanguageModel.QueryAsync(string, string, CancellationToken)"/> when a request of the
/// <b>root</b> model still fails after <see cref="RlmOptions.MaxModelRetries"/> retries, or fails with an error that is not
/// worth retrying (<see cref="RlmModelFailureKind.ClientError"/>, <see cref="RlmModelFailureKind.Unknown"/>). A failed worker request never throws: it becomes a
/// failed sub-call whose error the parent model reads, counted in <see cref="RlmStatistics.FailedSubCalls"/>.
/// </summary>
/// <remarks>
/// The message is one line and, like <see cref="Exception.InnerException"/>, holds no secret: provider text passes through
/// <see cref="SecretRedactor"/> first. When the cause's own text held a secret, <see cref="Exception.InnerException"/> is a
/// redacted stand-in (an <see cref="Exception"/> whose message names the original type) rather than the original.
/// Caller cancellation is never wrapped: it stays an <see cref="OperationCanceledException"/>.
/// </remarks>
public sealed class RlmModelException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The one-line, already redacted message.</param>
    /// <param name="kind">The classified cause.</param>
    /// <param name="statusCode">The HTTP status of the last attempt, when it had one.</param>
    /// <param name="attempts">Attempts made, the first included (at least 1).</param>
    /// <param name="innerException">The cause (redacted stand-in when its text held a secret).</param>
    public RlmModelException(string message, RlmModelFailureKind kind, int? statusCode, int attempts, Exception? innerException)
        : base(message, innerException)
    {
        Kind = kind;
        StatusCode = statusCode;
        Attempts = attempts;
    }

    /// <summary>Gets the classified cause of the last attempt.</summary>
    public RlmModelFailureKind Kind { get; }

    /// <summary>Gets the HTTP status code of the last attempt, or <see langword="null"/> when there was none (a timeout, a reset, an unreadable 200).</summary>
    public int? StatusCode { get; }

    /// <summary>Gets how many attempts were made, the first included.</summary>
    public int Attempts { get; }

    /// <summary>
    /// Gets what the run had when it failed: usage, statistics and trajectory so far, with
    /// <see cref="RlmResult.StopReason"/> = <see cref="RlmStopReason.ModelFailure"/> and an empty answer. Set when the
    /// exception leaves <see cref="RecursiveLanguageModel"/>; <see langword="null"/> before.
    /// </summary>
    public RlmResult? PartialResult { get; internal set; }
}
