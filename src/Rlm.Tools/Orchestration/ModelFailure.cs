using System.Diagnostics;
using System.ClientModel;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Polly.Timeout;

namespace Rlm.Tools.Orchestration;

/// <summary>A response the engine cannot use although the client returned it: no text and no function calls.</summary>
internal sealed class UnusableResponseException(string message) : Exception(message);

/// <summary>A failed attempt of a model request, classified: its kind, HTTP status, whether a retry may help, and the wait the provider asked for.</summary>
internal readonly record struct ModelFailure(RlmModelFailureKind Kind, int? StatusCode, bool IsTransient, TimeSpan? RetryAfter)
{
    /// <summary>
    /// Classifies <paramref name="exception"/>, thrown by a model request whose caller has not canceled. Transient (worth a
    /// retry): timeouts, HTTP 408, 409, 425, 429 and 5xx, connection failures, and responses that could not be read
    /// (<see cref="JsonException"/>, <see cref="FormatException"/>, <see cref="InvalidDataException"/>, or a reply with
    /// nothing usable). Anything else, such as a client's own <see cref="NullReferenceException"/>,
    /// <see cref="ArgumentException"/> or <see cref="InvalidOperationException"/>, is <see cref="RlmModelFailureKind.Unknown"/>
    /// and fails at once: a bug does not go away on a second attempt.
    /// </summary>
    public static ModelFailure Classify(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case UnusableResponseException:
                    return new(RlmModelFailureKind.EmptyResponse, null, true, null);
                case TimeoutRejectedException or TimeoutException or OperationCanceledException:
                    // The caller's own cancellation never gets here: an OperationCanceledException now is a client-side timeout.
                    return new(RlmModelFailureKind.Timeout, null, true, null);
                case ClientResultException { Status: > 0 } result:
                    return FromStatus(result.Status, ReadRetryAfter(result));
                case HttpRequestException { StatusCode: { } status }:
                    return FromStatus((int)status, null);
                case RateLimiterRejectedException:
                    return new(RlmModelFailureKind.RateLimited, null, true, null);
            }
        }

        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or IOException or SocketException)
            {
                return new(RlmModelFailureKind.Transport, null, true, null);
            }

            if (e is JsonException or FormatException or InvalidDataException || ThrownByWireClient(e))
            {
                // A response that could not be read: malformed or truncated JSON, empty choices, unknown values
                // (Rlm.Tools.OpenAI reports what the SDK throws while reading a response as InvalidDataException).
                return new(RlmModelFailureKind.InvalidResponse, null, true, null);
            }
        }

        return exception is ClientResultException
            ? new(RlmModelFailureKind.Transport, null, true, null) // status 0: no response arrived
            : new(RlmModelFailureKind.Unknown, null, false, null);
    }

    /// <summary>
    /// Whether <paramref name="exception"/> was thrown inside a wire client library while it read a reply: the OpenAI SDK
    /// behind M.E.AI's own <c>AsIChatClient()</c> reports a reply it cannot use (empty <c>choices</c>, a missing field) with
    /// whatever its parser throws, such as <see cref="ArgumentOutOfRangeException"/>. That is the provider's fault, not a bug
    /// of the caller's client, and is told apart by where it was thrown: the first frame outside the base library.
    /// </summary>
    private static bool ThrownByWireClient(Exception exception)
    {
        foreach (var frame in new StackTrace(exception, fNeedFileInfo: false).GetFrames())
        {
            string? assembly = frame.GetMethod()?.DeclaringType?.Assembly.GetName().Name;
            if (assembly is null || (assembly.StartsWith("System.", StringComparison.Ordinal) && assembly != "System.ClientModel"))
            {
                continue; // the base library's throw helpers, collections, LINQ and JSON: look further for who called them
            }

            return assembly is "OpenAI" or "System.ClientModel" or "Microsoft.Extensions.AI.OpenAI";
        }

        return false;
    }

    private static ModelFailure FromStatus(int status, TimeSpan? retryAfter) => status switch
    {
        429 => new(RlmModelFailureKind.RateLimited, status, true, retryAfter),
        408 or 409 or 425 or >= 500 => new(RlmModelFailureKind.ServerError, status, true, retryAfter),
        _ => new(RlmModelFailureKind.ClientError, status, false, null),
    };

    /// <summary>Reads <c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c> or <c>Retry-After</c> (seconds or an HTTP date) from the failed response.</summary>
    private static TimeSpan? ReadRetryAfter(ClientResultException exception)
    {
        var headers = exception.GetRawResponse()?.Headers;
        if (headers is null)
        {
            return null;
        }

        foreach (string name in (ReadOnlySpan<string>)["retry-after-ms", "x-ms-retry-after-ms"])
        {
            if (headers.TryGetValue(name, out string? ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds) && milliseconds >= 0)
            {
                return TimeSpan.FromMilliseconds(milliseconds);
            }
        }

        if (headers.TryGetValue("Retry-After", out string? value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }
}

/// <summary>A shared <see cref="RlmOptions.ConcurrencyLimiter"/> refused a permit (its queue is full).</summary>
internal sealed class RateLimiterRejectedException(string message) : Exception(message);
