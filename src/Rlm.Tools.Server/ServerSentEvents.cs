using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Rlm.Tools.Server;

/// <summary>
/// Writes a <c>text/event-stream</c> response: <c>data:</c> lines, named events and comments, each flushed at once.
/// </summary>
/// <remarks>
/// Written by hand rather than with <c>TypedResults.ServerSentEvents</c>: the OpenAI chunk stream mixes comment lines and a
/// final non-JSON <c>data: [DONE]</c>, and a stream has to be able to end with an error after it began.
/// </remarks>
internal static class ServerSentEvents
{
    public static void Start(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not hold the events back
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public static Task WriteDataAsync(HttpContext context, string data, CancellationToken cancellationToken) =>
        WriteAsync(context, $"data: {data}\n\n", cancellationToken);

    public static Task WriteEventAsync(HttpContext context, string name, string data, CancellationToken cancellationToken) =>
        WriteAsync(context, $"event: {name}\ndata: {data}\n\n", cancellationToken);

    /// <summary>A comment line (ignored by clients): progress that keeps idle-timeout proxies from closing the stream.</summary>
    public static Task WriteCommentAsync(HttpContext context, string text, CancellationToken cancellationToken) =>
        WriteAsync(context, $": {text.ReplaceLineEndings(" ")}\n\n", cancellationToken);

    private static async Task WriteAsync(HttpContext context, string text, CancellationToken cancellationToken)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
