using System.Text.Json;
using System.Text.Json.Serialization;
using Rlm.Tools.Server.Corpora;
using Rlm.Tools.Server.OpenAI;

namespace Rlm.Tools.Server;

/// <summary>The one source-generated serializer of every wire shape of <c>rlm serve</c> (snake_case, nulls left out unless a shape keeps them).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(CorpusUpload))]
[JsonSerializable(typeof(CorpusCreated))]
[JsonSerializable(typeof(CorpusDocuments))]
[JsonSerializable(typeof(QueryRequest))]
[JsonSerializable(typeof(QueryResponse))]
[JsonSerializable(typeof(EventWire))]
internal sealed partial class ServerJsonContext : JsonSerializerContext;

/// <summary>The body of <c>/healthz</c> and <c>/readyz</c>.</summary>
internal sealed record HealthStatus(string Status, string? Redis = null);
