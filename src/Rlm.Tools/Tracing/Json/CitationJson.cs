namespace Rlm.Tools.Json;

/// <summary>One checked citation of the answer (<see cref="RlmCitation"/>), in <c>rlm --json</c> and a sensitive trajectory's run line.</summary>
internal sealed record CitationJson(string Text, int AnswerOffset, string? Document, int? Line, string? Quote, int? Offset, bool Verified, string? Reason)
{
    public static List<CitationJson> From(IReadOnlyList<RlmCitation> citations) =>
        [.. citations.Select(c => new CitationJson(c.Text, c.AnswerOffset, c.Document, c.Line, c.Quote, c.Offset, c.Verified, c.Reason))];
}
