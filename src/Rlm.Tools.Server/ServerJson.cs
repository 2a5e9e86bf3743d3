using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Rlm.Tools.Server;

/// <summary>Reads a JSON request body; a malformed or too large body is answered here (400, 413) and gives <see langword="null"/>.</summary>
internal static class ServerJson
{
    public static async Task<T?> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        var options = context.RequestServices.GetService(typeof(RlmServerOptions)) as RlmServerOptions;
        try
        {
            var value = await JsonSerializer.DeserializeAsync(context.Request.Body, typeInfo, context.RequestAborted).ConfigureAwait(false);
            if (value is null)
            {
                await ApiErrors.BadRequestAsync(context, "the request body must be a JSON object").ConfigureAwait(false);
            }

            return value;
        }
        catch (JsonException e)
        {
            await ApiErrors.BadRequestAsync(context, $"the request body is not valid JSON for this endpoint: {e.Message}").ConfigureAwait(false);
            return null;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await ApiErrors.TooLargeAsync(context, options?.MaxRequestBytes ?? 0).ConfigureAwait(false);
            return null;
        }
    }
}
