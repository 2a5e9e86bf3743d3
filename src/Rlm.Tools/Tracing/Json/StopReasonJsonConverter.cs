using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rlm.Tools.Json;

/// <summary>Writes and reads a <see cref="RlmStopReason"/> by its name in <see cref="RlmStopReasonText"/>, the one table of stop-reason text.</summary>
internal sealed class StopReasonJsonConverter : JsonConverter<RlmStopReason>
{
    public override RlmStopReason Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string? name = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return RlmStopReasonText.TryParse(name, out var reason) || TryParseOld(name, out reason)
            ? reason
            : throw new JsonException($"unknown stop reason {(name is null ? reader.TokenType.ToString() : $"\"{name}\"")}");
    }

    public override void Write(Utf8JsonWriter writer, RlmStopReason value, JsonSerializerOptions options) =>
        writer.WriteStringValue(RlmStopReasonText.GetName(value));

    // Files of the first trajectory version spelled a few names by the enum member.
    private static bool TryParseOld(string? name, out RlmStopReason reason) =>
        Enum.TryParse(name, ignoreCase: false, out reason) && Enum.IsDefined(reason) && !int.TryParse(name, out _);
}
