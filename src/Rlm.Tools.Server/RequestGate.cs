using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Rlm.Tools.Server;

/// <summary>
/// The first middleware of every request: refuses a body declared larger than <see cref="RlmServerOptions.MaxRequestBytes"/>
/// (413; a chunked body is cut by Kestrel's own limit, set to the same value) and, when API keys are configured, a request
/// to anything but the health endpoints without <c>Authorization: Bearer KEY</c> for one of them (401). It names the client
/// for the per-client limit and the logs: <c>key-N</c> (the key's line in the file, never the key) or the remote address.
/// An exception no route handled becomes a JSON 500 in the OpenAI error shape (logged with its stack for the operator).
/// </summary>
/// <remarks>
/// Hand-written rather than ASP.NET Core's authentication: a fixed list of opaque keys needs no scheme, principal or
/// challenge machinery, and the comparison below is constant-time over SHA-256 digests (no early exit, no length leak).
/// </remarks>
internal sealed class RequestGate(RequestDelegate next, RlmServerOptions options, ILogger<RequestGate> logger)
{
    private const string ClientItem = "rlm.client";

    private readonly byte[][] _keyDigests = [.. options.ApiKeys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))];

    /// <summary>The name of the request's client: <c>key-N</c>, or the remote address.</summary>
    public static string ClientOf(HttpContext context) =>
        context.Items.TryGetValue(ClientItem, out var client) && client is string name ? name : context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static bool IsHealthPath(PathString path) => path.Equals("/healthz", StringComparison.OrdinalIgnoreCase) || path.Equals("/readyz", StringComparison.OrdinalIgnoreCase);

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > options.MaxRequestBytes)
        {
            await ApiErrors.TooLargeAsync(context, options.MaxRequestBytes).ConfigureAwait(false);
            return;
        }

        if (_keyDigests.Length > 0 && !IsHealthPath(context.Request.Path))
        {
            int key = MatchingKey(context.Request.Headers.Authorization.ToString());
            if (key < 0)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await ApiErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, "a valid API key is required: send the header Authorization: Bearer KEY", "invalid_request_error", "invalid_api_key").ConfigureAwait(false);
                return;
            }

            context.Items[ClientItem] = $"key-{key + 1}";
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // A bug, not the client's mistake: the client still gets the JSON error shape, the operator the exception.
            logger.LogError(e, "unexpected error on {Method} {Path}", context.Request.Method, context.Request.Path);
            await ApiErrors.WriteAsync(context, StatusCodes.Status500InternalServerError, "internal server error (see the server's log)", "server_error", "internal_error").ConfigureAwait(false);
        }
    }

    /// <summary>The index of the key the header carries, or -1; every key is compared, whatever matched.</summary>
    private int MatchingKey(string header)
    {
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        int found = -1;
        for (int i = 0; i < _keyDigests.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, _keyDigests[i]) && found < 0)
            {
                found = i;
            }
        }

        return found;
    }
}
