using Rlm.Tools.Context;
using System.Globalization;
using System.Text.Json;

namespace Rlm.Tools.Tools;

/// <summary>
/// Reads a function call's arguments for the tools' typed parameters (the binding <see cref="RlmToolSet"/> gives
/// <c>AIFunctionFactory</c>). Values arrive as <see cref="JsonElement"/> from real endpoints and as CLR values from
/// in-process clients, and are read more leniently than JSON deserialization would (<c>3.0</c> or <c>"3"</c> for an
/// integer). A missing or mistyped argument throws <see cref="ToolArgumentException"/>, which <see cref="RlmTool"/> turns
/// into a tool result the model can read.
/// </summary>
internal sealed class ToolArguments(IDictionary<string, object?>? values)
{
    private readonly IDictionary<string, object?> _values = values ?? new Dictionary<string, object?>();

    public bool Has(string name) => _values.TryGetValue(name, out var v) && v is not null && !(v is JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined });

    public string GetString(string name)
    {
        if (!_values.TryGetValue(name, out var value) || value is null)
        {
            throw Missing(name, "a string");
        }

        return value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString()!,
            JsonElement { ValueKind: JsonValueKind.Null } => throw Missing(name, "a string"),
            JsonElement e => e.GetRawText(),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? string.Empty,
        };
    }

    public long GetInteger(string name) =>
        TryGetInteger(name, out long value) ? value : throw Missing(name, "an integer");

    public long GetInteger(string name, long defaultValue) =>
        TryGetInteger(name, out long value) ? value : defaultValue;

    public bool GetBoolean(string name, bool defaultValue)
    {
        if (!Has(name))
        {
            return defaultValue;
        }

        object value = _values[name]!;
        return value switch
        {
            bool b => b,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            JsonElement { ValueKind: JsonValueKind.False } => false,
            JsonElement { ValueKind: JsonValueKind.String } e when bool.TryParse(e.GetString(), out bool b) => b,
            string s when bool.TryParse(s, out bool b) => b,
            _ => throw Mistyped(name, "a boolean (true or false)", value),
        };
    }

    private bool TryGetInteger(string name, out long result)
    {
        result = 0;
        if (!Has(name))
        {
            return false;
        }

        object value = _values[name]!;
        switch (value)
        {
            case int i: result = i; return true;
            case long l: result = l; return true;
            case short s: result = s; return true;
            case double d when IsWhole(d): result = (long)d; return true;
            case float f when IsWhole(f): result = (long)f; return true;
            case decimal m when decimal.Truncate(m) == m && m is >= long.MinValue and <= long.MaxValue: result = (long)m; return true;
            case string str when long.TryParse(str.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed): result = parsed; return true;
            case JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out long n): result = n; return true;
            case JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetDouble(out double d) && IsWhole(d): result = (long)d; return true;
            case JsonElement { ValueKind: JsonValueKind.String } e when long.TryParse(e.GetString()?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed): result = parsed; return true;
            default: throw Mistyped(name, "an integer", value);
        }
    }

    private static bool IsWhole(double d) => Math.Abs(d) < 9e15 && Math.Floor(d) == d;

    private static ToolArgumentException Missing(string name, string kind) =>
        new($"missing required argument '{name}' ({kind}).");

    private static ToolArgumentException Mistyped(string name, string kind, object value)
    {
        string shown = value is JsonElement e ? e.GetRawText() : value is string s ? JsonSerializer.Serialize(s) : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";
        if (shown.Length > 80)
        {
            shown = shown[..80] + "…";
        }

        return new($"argument '{name}' must be {kind}, got {shown}.");
    }
}

/// <summary>A missing or mistyped tool argument; its message goes back to the model.</summary>
internal sealed class ToolArgumentException(string message) : Exception(message);
