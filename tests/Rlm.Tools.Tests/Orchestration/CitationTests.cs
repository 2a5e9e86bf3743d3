using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>A final answer's citations, checked by the host against the context, through <see cref="RecursiveLanguageModel.QueryAsync(string, IReadOnlyList{RlmDocument}, CancellationToken)"/>.</summary>
public sealed class CitationTests
{
    private static readonly RlmDocument[] s_documents =
    [
        new("src/a.cs", "int x = 1;\nint   total =\tsum(x);\nreturn total;\n"),
        new("notes.md", "# Notes\nThe limit is 42.\n"),
    ];

    [Fact]
    public async Task QueryAsync_FabricatedQuote_IsUnverifiedWithTheReason()
    {
        var result = await AnswerAsync("The code returns y: src/a.cs:3 \"return y;\"");

        var citation = Assert.Single(result.Citations);
        Assert.Equal("src/a.cs", citation.Document);
        Assert.Equal(3, citation.Line);
        Assert.Equal("return y;", citation.Quote);
        Assert.False(citation.Verified);
        Assert.Null(citation.Offset);
        Assert.Equal("the quote occurs nowhere in the context", citation.Reason);
    }

    [Fact]
    public async Task QueryAsync_LineThatDoesNotExist_IsUnverified()
    {
        var result = await AnswerAsync("See notes.md:90 for the limit.");

        var citation = Assert.Single(result.Citations);
        Assert.Equal(("notes.md", 90), (citation.Document, citation.Line));
        Assert.False(citation.Verified);
        Assert.Equal("notes.md has 2 lines; line 90 does not exist", citation.Reason);
    }

    [Fact]
    public async Task QueryAsync_TrueCitation_IsVerifiedWithItsOffsetInTheDocument()
    {
        var result = await AnswerAsync("The limit is 42 (notes.md:2 \"limit is 42\"), and the code returns total (src/a.cs:3).");

        Assert.Equal(2, result.Citations.Count);
        var quoted = result.Citations[0];
        Assert.True(quoted.Verified, quoted.Reason);
        Assert.Null(quoted.Reason);
        Assert.Equal(s_documents[1].Text.IndexOf("limit is 42", StringComparison.Ordinal), quoted.Offset);
        Assert.Equal("notes.md:2", quoted.Text);
        Assert.Equal(result.Answer.IndexOf("notes.md:2", StringComparison.Ordinal), quoted.AnswerOffset);

        var bare = result.Citations[1];
        Assert.True(bare.Verified);
        Assert.Null(bare.Quote);
        Assert.Equal(s_documents[0].Text.IndexOf("return", StringComparison.Ordinal), bare.Offset);
    }

    [Fact]
    public async Task QueryAsync_QuoteWithOtherWhitespace_IsVerified()
    {
        var result = await AnswerAsync("src/a.cs:2 “int total = sum(x);”");

        var citation = Assert.Single(result.Citations);
        Assert.True(citation.Verified, citation.Reason);
        Assert.Equal(s_documents[0].Text.IndexOf("int   total", StringComparison.Ordinal), citation.Offset);
    }

    [Fact]
    public async Task QueryAsync_QuoteOnAnotherLine_IsUnverifiedAndSaysWhereItIs()
    {
        var result = await AnswerAsync("src/a.cs:1 \"return total;\"");

        var citation = Assert.Single(result.Citations);
        Assert.False(citation.Verified);
        Assert.Equal("the quote is not in line 1 of src/a.cs; it occurs at src/a.cs:3", citation.Reason);
    }

    [Fact]
    public async Task QueryAsync_DocumentPrefixForm_IsMatchedByItsFullName_AndAShortNameIsFlagged()
    {
        var result = await AnswerAsync("src/a.cs:1 \"int x = 1;\" but a.cs:1 is not a name");

        Assert.Equal(2, result.Citations.Count);
        Assert.True(result.Citations[0].Verified);
        Assert.Equal("src/a.cs", result.Citations[0].Document);
        Assert.False(result.Citations[1].Verified);
        Assert.Equal("no document is named a.cs; did you mean src/a.cs?", result.Citations[1].Reason);
    }

    [Fact]
    public async Task QueryAsync_DocumentAndQuoteWithoutLine_IsCheckedInTheDocument()
    {
        var result = await AnswerAsync("notes.md: \"The limit is 42.\" and notes.md \"no such text\"; notes.md alone cites nothing");

        Assert.Equal(2, result.Citations.Count);
        Assert.True(result.Citations[0].Verified);
        Assert.Null(result.Citations[0].Line);
        Assert.False(result.Citations[1].Verified);
    }

    [Fact]
    public async Task QueryAsync_ContextLineForm_IsCheckedAgainstTheContextsLines()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "Beta (line 2) \"beta\"; gamma (line 9)." })));
        var result = await new RecursiveLanguageModel(root).QueryAsync("q?", "alpha\nbeta\n");

        Assert.Equal(2, result.Citations.Count);
        Assert.True(result.Citations[0].Verified);
        Assert.Null(result.Citations[0].Document);
        Assert.Equal(6, result.Citations[0].Offset);
        Assert.Equal("the context has 2 lines; line 9 does not exist", result.Citations[1].Reason);
    }

    [Fact]
    public async Task QueryAsync_TimesAndUrls_AreNoCitations()
    {
        var result = await AnswerAsync("At 10:30 see https://example.org:8080/x and Note:3.");

        Assert.Empty(result.Citations);
    }

    [Fact]
    public async Task QueryAsync_PolicyOff_ChecksNothing_AndReportSendsOneEvent()
    {
        var off = await AnswerAsync("notes.md:90", new RlmOptions { CitationPolicy = RlmCitationPolicy.Off });
        Assert.Empty(off.Citations);

        var events = new List<RlmEvent>();
        var options = new RlmOptions { Progress = new SyncProgress<RlmEvent>(events.Add) };
        var reported = await AnswerAsync("notes.md:90 and notes.md:2", options);
        var checkedEvent = Assert.Single(events.OfType<RlmCitationsChecked>());
        Assert.Equal(reported.Citations, checkedEvent.Citations);
        Assert.Equal("citations: 1 of 2 verified", checkedEvent.Describe());
        Assert.True(events.IndexOf(checkedEvent) < events.FindIndex(e => e is RlmRunCompleted));
    }

    [Fact]
    public void CitationPolicy_DefaultsToReport_AndRejectsUndefinedValues()
    {
        Assert.Equal(RlmCitationPolicy.Report, new RlmOptions().CitationPolicy);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RlmOptions { CitationPolicy = (RlmCitationPolicy)7 });
    }

    private static Task<RlmResult> AnswerAsync(string answer, RlmOptions? options = null)
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer })));
        return new RecursiveLanguageModel(root, root, options ?? new RlmOptions()).QueryAsync("q?", s_documents);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
