using Microsoft.AspNetCore.Http;
using Rlm.Tools.Server.OpenAI;

namespace Rlm.Tools.Server;

/// <summary>
/// Every error of the service in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, so OpenAI clients read
/// them on <c>/v1/chat/completions</c> and every other route answers alike. Messages never hold secrets or stack traces.
/// </summary>
internal static class ApiErrors
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code, string? param = null)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask; // a stream already under way reports in its own way
        }

        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ErrorResponse(new ErrorBody(message, type, param, code)), ServerJson.Wire.ErrorResponse, contentType: null, context.RequestAborted);
    }

    public static Task BadRequestAsync(HttpContext context, string message, string? param = null) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, message, "invalid_request_error", "invalid_request", param);

    public static Task NotFoundAsync(HttpContext context, string message, string? param = null) =>
        WriteAsync(context, StatusCodes.Status404NotFound, message, "invalid_request_error", "not_found", param);

    public static Task TooLargeAsync(HttpContext context, long maxBytes) =>
        WriteAsync(context, StatusCodes.Status413PayloadTooLarge, FormattableString.Invariant($"the request body is larger than this server accepts ({maxBytes:N0} bytes)"), "invalid_request_error", "request_too_large");
}
