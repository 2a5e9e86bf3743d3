using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rlm.Tools.Server.OpenAI;

// The wire shapes of OpenAI's Chat Completions API that rlm serve reads and writes (snake_case through ServerJsonContext).
// Only the fields the server uses are declared; a client's other fields (temperature, tools, ...) are ignored.

/// <summary>A <c>POST /v1/chat/completions</c> request.</summary>
internal sealed class ChatCompletionRequest
{
    public string? Model { get; set; }

    public List<ChatCompletionMessage>? Messages { get; set; }

    public bool? Stream { get; set; }

    public StreamOptionsWire? StreamOptions { get; set; }

    /// <summary>Accepted and ignored: a run's length is bounded by the server's budgets, not per request.</summary>
    public int? MaxTokens { get; set; }

    public ResponseFormatWire? ResponseFormat { get; set; }

    /// <summary>The server's own extension: <c>"rlm": {"corpus": "ID"}</c> answers over a stored corpus.</summary>
    public RlmRequestExtension? Rlm { get; set; }
}

/// <summary>One message of a request: <c>content</c> is a string or an array of parts.</summary>
internal sealed class ChatCompletionMessage
{
    public string? Role { get; set; }

    public JsonElement Content { get; set; }

    public string? Name { get; set; }
}

internal sealed class StreamOptionsWire
{
    public bool? IncludeUsage { get; set; }
}

internal sealed class ResponseFormatWire
{
    public string? Type { get; set; }

    public JsonSchemaWire? JsonSchema { get; set; }
}

internal sealed class JsonSchemaWire
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public JsonElement? Schema { get; set; }
}

internal sealed class RlmRequestExtension
{
    public string? Corpus { get; set; }
}

/// <summary>A <c>chat.completion</c> or <c>chat.completion.chunk</c> object.</summary>
internal sealed record ChatCompletionResponse(
    string Id,
    string Object,
    long Created,
    string Model,
    IReadOnlyList<ChatCompletionChoice> Choices,
    CompletionUsage? Usage,
    [property: JsonPropertyName("rlm")] RlmResponseExtension? Rlm = null);

internal sealed record ChatCompletionChoice(
    int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatCompletionOutputMessage? Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatCompletionOutputMessage? Delta,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

internal sealed record ChatCompletionOutputMessage(string? Role, string? Content);

internal sealed record CompletionUsage(long PromptTokens, long CompletionTokens, long TotalTokens);

/// <summary>What the run adds to a completion: why it stopped, its cost and its checked citations.</summary>
internal sealed record RlmResponseExtension(string StopReason, string? StopMessage, decimal? CostUsd, IReadOnlyList<CitationWire> Citations);

internal sealed record CitationWire(string Text, string? Document, int? Line, bool Verified);

/// <summary>The OpenAI error body: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal sealed record ErrorResponse(ErrorBody Error);

internal sealed record ErrorBody(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);

/// <summary><c>GET /v1/models</c>.</summary>
internal sealed record ModelList(string Object, IReadOnlyList<ModelEntry> Data);

internal sealed record ModelEntry(string Id, string Object, long Created, string OwnedBy);
