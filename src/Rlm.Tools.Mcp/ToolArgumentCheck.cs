using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Mcp;

/// <summary>
/// Checks a tool call's arguments against the tool's JSON schema before it runs: a required argument that is missing or
/// null, or an argument of the wrong JSON type, becomes one sentence naming it, for the client to fix. Without it the
/// function binder's own exception would reach the client ("missing a value for the required parameter … (Parameter
/// 'arguments')", "The JSON value could not be converted to System.String. Path: $"). The schema is the MCP tool's own,
/// so the check follows it wherever a tool changes; only the schema keywords our tools use are read.
/// </summary>
internal static class ToolArgumentCheck
{
    /// <summary>Returns what is wrong with <paramref name="arguments"/>, or <see langword="null"/> when they fit the schema.</summary>
    public static string? Problem(JsonElement schema, IReadOnlyDictionary<string, object?> arguments)
    {
        if (!schema.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var required = schema.TryGetProperty("required", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(e => e.GetString()).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];
        foreach (var property in properties.EnumerateObject())
        {
            string name = property.Name;
            var kind = arguments.TryGetValue(name, out var value) ? KindOf(value) : (JsonValueKind?)null;
            if (kind is null or JsonValueKind.Null)
            {
                if (required.Contains(name))
                {
                    string what = property.Value.TryGetProperty("description", out var d) && d.GetString() is { Length: > 0 } text ? $": {text}" : ".";
                    return $"The argument '{name}' is required{what}";
                }

                continue;
            }

            if (Types(property.Value) is { Count: > 0 } types && !types.Contains(TypeName(kind.Value)))
            {
                return $"The argument '{name}' must be {string.Join(" or ", types.Where(t => t != "null").Select(Article))}, not {Article(TypeName(kind.Value))}.";
            }
        }

        return null;
    }

    private static JsonValueKind? KindOf(object? value) => value switch
    {
        null => JsonValueKind.Null,
        JsonElement e => e.ValueKind,
        string => JsonValueKind.String,
        bool b => b ? JsonValueKind.True : JsonValueKind.False,
        sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal => JsonValueKind.Number,
        System.Collections.IDictionary => JsonValueKind.Object,
        System.Collections.IEnumerable => JsonValueKind.Array,
        _ => null, // a type we cannot judge: the function's binder decides
    };

    private static string TypeName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Array => "array",
        JsonValueKind.Object => "object",
        _ => "null",
    };

    private static List<string> Types(JsonElement property)
    {
        if (!property.TryGetProperty("type", out var type))
        {
            return [];
        }

        var types = type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Select(t => t.GetString()).OfType<string>().ToList()
            : type.GetString() is { } one ? [one] : [];

        // "integer" accepts any JSON number here; the binder refuses a fraction with its own message.
        return [.. types.Select(t => t == "integer" ? "number" : t)];
    }

    private static string Article(string type) => type is "array" or "object" ? $"an {type}" : $"a {type}";
}
