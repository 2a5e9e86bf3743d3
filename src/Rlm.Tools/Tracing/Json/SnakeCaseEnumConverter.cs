using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rlm.Tools.Json;

/// <summary>An enum as a snake_case string, for example <see cref="RlmTraceKind.ModelCall"/> as <c>model_call</c>.</summary>
internal sealed class SnakeCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where TEnum : struct, Enum;
