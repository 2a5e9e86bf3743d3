using System.Text.Json.Serialization;
using Rlm.Tools.Server.OpenAI;

namespace Rlm.Tools.Server.Corpora;

// The wire shapes of the corpora API (snake_case through ServerJsonContext).

/// <summary><c>POST /v1/corpora</c> with a JSON body.</summary>
internal sealed class CorpusUpload
{
    public List<DocumentUpload>? Documents { get; set; }
}

internal sealed class DocumentUpload
{
    public string? Name { get; set; }

    public string? Text { get; set; }
}

/// <summary>The answer to an upload: the new corpus's id, its number of documents and its characters.</summary>
internal sealed record CorpusCreated(string Id, int Documents, long Characters);

/// <summary><c>GET /v1/corpora/{id}/documents</c>.</summary>
internal sealed record CorpusDocuments(string Id, IReadOnlyList<DocumentEntry> Documents, long Characters);

internal sealed record DocumentEntry(string Name, long Characters);

/// <summary><c>POST /v1/corpora/{id}/query</c>.</summary>
internal sealed class QueryRequest
{
    public string? Question { get; set; }

    public string? ConversationId { get; set; }
}

/// <summary>The answer of a query (also the data of the <c>result</c> event of a streamed query).</summary>
internal sealed record QueryResponse(
    string Answer,
    string StopReason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? StopMessage,
    UsageWire Usage,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? CostUsd,
    string ConversationId,
    int Turn,
    string CorpusId,
    IReadOnlyList<CitationWire> Citations);

internal sealed record UsageWire(long InputTokens, long OutputTokens, long TotalTokens);

/// <summary>One run event of a streamed query: its type (<c>iteration_started</c>, <c>sub_call_ended</c>, ...), time, depth and one-line text.</summary>
internal sealed record EventWire(string Type, long ElapsedMs, int Depth, string Message);
