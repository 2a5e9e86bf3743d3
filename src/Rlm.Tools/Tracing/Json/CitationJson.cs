namespace Rlm.Tools.Json;

/// <summary>One checked citation of the answer (<see cref="RlmCitation"/>), in <c>rlm --json</c> and a sensitive trajectory's run line.</summary>
internal sealed record CitationJson(string Text, int AnswerOffset, string? Document, int? Line, string? Quote, int? Offset, bool Verified, string? Reason)
{
    /// <summary>The cited context text (trajectory only, where the viewer shows it offline); absent when the cited line does not exist.</summary>
    public CitedLinesJson? Source { get; init; }

    public static List<CitationJson> From(IReadOnlyList<RlmCitation> citations, bool withSource = false) =>
        [.. citations.Select(c => new CitationJson(c.Text, c.AnswerOffset, c.Document, c.Line, c.Quote, c.Offset, c.Verified, c.Reason)
        {
            Source = withSource && c.Source is { } s ? new CitedLinesJson(s.Document, s.Line, s.Text, s.Truncated ? true : null) : null,
        })];
}

/// <summary>The context text a citation points to (<see cref="Context.CitedLines"/>): document, first 1-based line, the lines' text.</summary>
internal sealed record CitedLinesJson(string? Document, int Line, string Text, bool? Truncated);
