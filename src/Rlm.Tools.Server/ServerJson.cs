using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Rlm.Tools.Server;

/// <summary>
/// The JSON of every route: <see cref="Wire"/> to write and read the wire shapes, and <see cref="ReadAsync"/> for request
/// bodies (a malformed or too large body is answered here, 400 or 413, and gives <see langword="null"/>).
/// </summary>
internal static class ServerJson
{
    /// <summary>
    /// The serializer context every route uses: <see cref="ServerJsonContext"/>'s options, with text (quotes, <c>&lt;&gt;&amp;</c>,
    /// non-ASCII) written as itself rather than as <c>\uXXXX</c> escapes, as the engine's own JSON is; still valid JSON.
    /// </summary>
    public static ServerJsonContext Wire { get; } = new(new JsonSerializerOptions(ServerJsonContext.Default.Options)
    {
        TypeInfoResolver = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

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
            // A value of the wrong type: name the field and what it should be, not the .NET type it failed to become.
            string detail = e.Path is { } path && e.Message.Contains("could not be converted", StringComparison.Ordinal)
                ? $"{path} has the wrong type ({Expected(e.Message)})"
                : e.Message;
            await ApiErrors.BadRequestAsync(context, $"the request body is not valid JSON for this endpoint: {detail}").ConfigureAwait(false);
            return null;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await ApiErrors.TooLargeAsync(context, options?.MaxRequestBytes ?? 0).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>What System.Text.Json's conversion message says the value should have been, in JSON's words.</summary>
    private static string Expected(string message) =>
        message.Contains("Boolean", StringComparison.Ordinal) ? "expected true or false"
        : message.Contains("String", StringComparison.Ordinal) ? "expected a string"
        : message.Contains("Int", StringComparison.Ordinal) || message.Contains("Double", StringComparison.Ordinal) || message.Contains("Decimal", StringComparison.Ordinal) ? "expected a number"
        : message.Contains("List", StringComparison.Ordinal) || message.Contains("[]", StringComparison.Ordinal) ? "expected an array"
        : "expected an object";
}
