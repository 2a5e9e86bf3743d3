using Rlm.Tools.Context;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Context;

/// <summary>The context text each checked citation points to (<see cref="CitedLines"/>), which a sensitive trajectory records for the viewer.</summary>
public sealed class CitedLinesTests
{
    private static readonly ContextText s_documents = ContextText.FromDocuments(
    [
        new RlmDocument("src/a.cs", "int x = 1;\r\nint y = 2;\nreturn x;\n"),
        new RlmDocument("notes.md", "# Notes\nThe limit is 42.\n"),
    ]);

    private static RlmCitation Single(string answer, ContextText context) => Assert.Single(CitationChecker.Check(answer, context));

    [Fact]
    public void DocumentLine_IsThatLine_WithoutItsLineBreak()
    {
        var citation = Single("see src/a.cs:1", s_documents);

        Assert.Equal(new CitedLines("src/a.cs", 1, "int x = 1;", false), citation.Source);
    }

    [Fact]
    public void Range_IsItsLines_JoinedWithLineFeeds()
    {
        var citation = Single("see src/a.cs:1-2", s_documents);

        Assert.Equal(new CitedLines("src/a.cs", 1, "int x = 1;\nint y = 2;", false), citation.Source);
    }

    [Fact]
    public void WrongQuote_OnALineThatExists_KeepsTheLine_SoAReaderSeesWhatItSays()
    {
        var citation = Single("see src/a.cs:2 \"return x;\"", s_documents);

        Assert.False(citation.Verified);
        Assert.Equal(new CitedLines("src/a.cs", 2, "int y = 2;", false), citation.Source);
    }

    [Fact]
    public void DocumentAndQuote_WithoutALine_IsTheLineWhereTheQuoteStarts()
    {
        var citation = Single("notes.md \"limit is 42\"", s_documents);

        Assert.True(citation.Verified);
        Assert.Equal(new CitedLines("notes.md", 2, "The limit is 42.", false), citation.Source);
    }

    [Theory]
    [InlineData("see src/a.cs:9")] // no such line
    [InlineData("notes.md \"no such text\"")] // a quote found nowhere
    public void NothingToPointTo_HasNoSource(string answer)
    {
        var citation = Single(answer, s_documents);

        Assert.False(citation.Verified);
        Assert.Null(citation.Source);
    }

    [Fact]
    public void ContextLine_CountsLinesOfTheWholeContext()
    {
        var citation = Single("as (line 2) says", ContextText.FromString("alpha\nbeta\ngamma\n"));

        Assert.Equal(new CitedLines(null, 2, "beta", false), citation.Source);
    }

    [Fact]
    public void LongRange_IsCutAtTwentyLines_AndSaysSo()
    {
        var context = ContextText.FromString(string.Concat(Enumerable.Range(1, 100).Select(i => $"line {i}\n")));

        var source = Single("see (line 5-90)", context).Source!;

        Assert.Equal(5, source.Line);
        Assert.Equal(CitedLines.MaxLines, source.Text.Split('\n').Length);
        Assert.EndsWith("line 24", source.Text, StringComparison.Ordinal);
        Assert.True(source.Truncated);
    }

    [Fact]
    public void LongLine_IsCutAtTheCharacterBound_NeverInsideASurrogatePair()
    {
        // An emoji (two UTF-16 units) straddling the bound: the cut falls before it, not between its halves.
        string line = new string('a', CitedLines.MaxChars - 1) + "😀" + new string('b', 10);
        var source = Single("see (line 1)", ContextText.FromString(line + "\n")).Source!;

        Assert.True(source.Truncated);
        Assert.Equal(CitedLines.MaxChars - 1, source.Text.Length);
        Assert.False(char.IsHighSurrogate(source.Text[^1]));
    }

    [Fact]
    public async Task SensitiveTrajectory_CarriesTheLine_WithRedactedValuesRedacted()
    {
        const string Secret = "tok-7f3a9c-not-for-files";
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "the key is set at conf.ini:2" })));
        var options = new RlmOptions();
        options.RedactedValues.Add(Secret);
        var result = await new RecursiveLanguageModel(root, root, options).QueryAsync("q?", [new RlmDocument("conf.ini", $"[auth]\nkey = {Secret} # rotate\n")]);

        var text = new StringWriter();
        RlmTrajectoryWriter.WriteJsonLines(result, text, new RlmTrajectoryOptions { IncludeSensitiveData = true });

        Assert.True(Assert.Single(result.Citations).Verified);
        Assert.Contains("\"source\":{\"document\":\"conf.ini\",\"line\":2,\"text\":\"key = ", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("# rotate", text.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, text.ToString(), StringComparison.Ordinal);
    }
}
