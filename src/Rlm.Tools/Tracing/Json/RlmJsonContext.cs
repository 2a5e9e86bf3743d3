using System.Text.Json.Serialization;

namespace Rlm.Tools.Json;

/// <summary>
/// The source-generated serializer of every JSON document Rlm.Tools writes about a run: snake_case keys, enums as
/// snake_case strings, absent rather than null unless a type says otherwise.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(StopReasonJsonConverter), typeof(SnakeCaseEnumConverter<RlmTraceKind>)])]
[JsonSerializable(typeof(RunJson))]
[JsonSerializable(typeof(TraceNodeJson))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
[JsonSerializable(typeof(string))]
internal sealed partial class RlmJsonContext : JsonSerializerContext;
