using System.ClientModel;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// Turns the exceptions of the OpenAI SDK and its HTTP transport into one line for people (a command line's stderr, a
/// log line), so callers need not know the SDK's exception types.
/// </summary>
/// <remarks>
/// The text comes from the service's response and from transport messages; it is not redacted here. Remove secrets
/// (the API key) before printing it when a provider might echo them.
/// </remarks>
public static class OpenAIErrors
{
    /// <summary>The longest detail <see cref="Describe"/> keeps from a service's message; longer text is cut with an ellipsis.</summary>
    public const int MaxDetailLength = 300;

    /// <summary>
    /// Gets whether <paramref name="exception"/>, or one of its inner exceptions, comes from talking to the model endpoint:
    /// an HTTP error status (<see cref="ClientResultException"/>), a connection or socket error, or a timeout.
    /// </summary>
    /// <param name="exception">The exception to classify.</param>
    /// <returns><see langword="true"/> for endpoint errors; <see langword="false"/> otherwise (for example a bug).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is <see langword="null"/>.</exception>
    public static bool IsEndpointError(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is ClientResultException or HttpRequestException or SocketException or TimeoutException or TaskCanceledException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Describes an endpoint failure in one line, without a stack trace.
    /// </summary>
    /// <param name="exception">The exception, typically thrown by an OpenAI SDK client or by an <c>IChatClient</c> over one.</param>
    /// <returns>
    /// For an HTTP error status: <c>HTTP {status}</c> followed by the service's <c>error.message</c> (or the whole
    /// <c>error</c> value) when the body is such JSON, e.g. <c>HTTP 401: Incorrect API key provided.</c>. When the
    /// exception or one of its inner exceptions is a <see cref="TimeoutException"/> or an
    /// <see cref="OperationCanceledException"/> (the SDK's network timeout throws a <see cref="TaskCanceledException"/>):
    /// <c>the request timed out</c>. Otherwise the innermost exception's message (which names the cause: connection
    /// refused, name not resolved, ...). Line breaks become spaces; details longer than <see cref="MaxDetailLength"/>
    /// characters are cut.
    /// </returns>
    /// <remarks>
    /// A cancellation the caller asked for also reads as a timeout: check the caller's token before describing.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is <see langword="null"/>.</exception>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is ClientResultException { Status: > 0 } http)
            {
                string status = string.Create(CultureInfo.InvariantCulture, $"HTTP {http.Status}");
                return ServiceMessage(http) is { } detail ? status + ": " + Truncate(OneLine(detail)) : status;
            }
        }

        // The SDK's network timeout is a TaskCanceledException around the transport's OperationCanceledException.
        Exception inner = exception;
        bool timedOut = exception is OperationCanceledException or TimeoutException;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
            timedOut |= inner is OperationCanceledException or TimeoutException;
        }

        // Otherwise the innermost exception names the cause (connection refused, name not resolved, ...).
        return timedOut ? "the request timed out" : Truncate(OneLine(inner.Message));
    }

    /// <summary>The <c>error.message</c> (or <c>error</c>) of a JSON error body, or <see langword="null"/>.</summary>
    private static string? ServiceMessage(ClientResultException http)
    {
        try
        {
            BinaryData? content = http.GetRawResponse()?.Content;
            if (content is null || content.ToMemory().IsEmpty)
            {
                return null;
            }

            using var json = JsonDocument.Parse(content.ToMemory());
            if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty("error", out JsonElement error))
            {
                return null;
            }

            return error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out JsonElement message)
                ? message.ToString()
                : error.ToString();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private static string Truncate(string text) => text.Length <= MaxDetailLength ? text : text[..(MaxDetailLength - 1)] + "…";
}
