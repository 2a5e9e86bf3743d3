using System.Text.Json;
using System.Text.RegularExpressions;
using Rlm.Tools.Context;
using Rlm.Tools.Tests.TestSupport;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.Tools;

public class ToolTests
{
    private static readonly string s_lines = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3} {(i % 10 == 0 ? "ERROR disk full" : "ok")}\n"));

    [Fact]
    public void Declarations_AreTheTenToolsWithSchemas()
    {
        var h = new ToolHarness("x");
        Assert.Equal(["peek", "peek_lines", "grep", "chunk", "sub_llm", "exec_js", "set_variable", "get_variable", "final", "final_var"], h.Tools.Keys);
        var grep = h.Tools["grep"].JsonSchema;
        Assert.Equal("object", grep.GetProperty("type").GetString());
        Assert.Equal(["pattern", "max_results", "ignore_case", "context_lines"], grep.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["pattern"], grep.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.All(h.Tools.Values, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
        Assert.All(h.Tools.Values, t => Assert.All(t.JsonSchema.GetProperty("properties").EnumerateObject(), p => Assert.True(p.Value.TryGetProperty("description", out _))));
    }

    [Fact]
    public async Task Peek_ReturnsHalfOpenRange()
    {
        var result = await new ToolHarness("0123456789").RunAsync("peek", new { start = 2, end = 5 });
        Assert.False(result.IsError);
        Assert.EndsWith("\n234", result.Text);
        Assert.DoesNotContain("note", result.Text);
    }

    [Fact]
    public async Task Peek_OutOfRange_ClampsAndSaysSo()
    {
        var result = await new ToolHarness("0123456789").RunAsync("peek", new { start = -5, end = 500 });
        Assert.EndsWith("\n0123456789", result.Text);
        Assert.Contains("start -5 clamped to 0", result.Text);
        Assert.Contains("end 500 clamped to 10", result.Text);
    }

    [Fact]
    public async Task Peek_LargeRange_IsCappedWithHeadTailAndOmittedCount()
    {
        string text = new string('a', 50_000) + new string('z', 50_000);
        var result = await new ToolHarness(text, new RlmOptions { MaxToolOutputChars = 1_000 }).RunAsync("peek", new { start = 0, end = 100_000 });
        Assert.True(result.Text.Length <= 1_000, $"length {result.Text.Length}");
        Assert.Contains("aaaa", result.Text);
        Assert.EndsWith("zzzz", result.Text);
        var omitted = Regex.Match(result.Text, @"\[\.\.\. ([\d,]+) characters omitted");
        Assert.True(omitted.Success);
        int kept = Regex.Matches(result.Text, "a{10,}|z{10,}").Sum(m => m.Length);
        Assert.Equal(100_000, kept + int.Parse(omitted.Groups[1].Value.Replace(",", "")));
    }

    [Fact]
    public async Task PeekLines_NumbersMatchGrepLineNumbers()
    {
        var h = new ToolHarness(s_lines);
        var grep = await h.RunAsync("grep", new { pattern = "line 042" });
        var line = int.Parse(Regex.Match(grep.Text, @"^(\d+) @", RegexOptions.Multiline).Groups[1].Value);
        var peek = await h.RunAsync("peek_lines", new { start = line, end = line + 1 });
        Assert.Contains($"{line}: line 042 ok", peek.Text);
        Assert.Equal(42, line);
    }

    [Fact]
    public async Task PeekLines_OutOfRange_Clamps()
    {
        var result = await new ToolHarness("a\nb\nc").RunAsync("peek_lines", new { start = 1, end = 99 });
        Assert.Contains("1: b\n2: c\n", result.Text);
        Assert.Contains("end 99 clamped to 3", result.Text);
    }

    [Fact]
    public async Task Grep_ReportsTotal_CapsResults_AndGivesOffsets()
    {
        var h = new ToolHarness(s_lines);
        var result = await h.RunAsync("grep", new { pattern = "error", max_results = 3 });
        Assert.StartsWith("10 matching lines", result.Text);
        Assert.Contains("showing the first 3", result.Text);
        var hits = Regex.Matches(result.Text, @"^(\d+) @(\d+): (.*)$", RegexOptions.Multiline);
        Assert.Equal(3, hits.Count);
        foreach (Match hit in hits)
        {
            int offset = int.Parse(hit.Groups[2].Value);
            Assert.StartsWith(hit.Groups[3].Value, s_lines[offset..]);
        }
    }

    [Fact]
    public async Task Grep_IgnoreCaseFalse_IsCaseSensitive()
    {
        var h = new ToolHarness(s_lines);
        Assert.StartsWith("0 matching lines", (await h.RunAsync("grep", new { pattern = "error", ignore_case = false })).Text);
        Assert.StartsWith("10 matching lines", (await h.RunAsync("grep", new { pattern = "ERROR", ignore_case = false })).Text);
    }

    [Fact]
    public async Task Grep_ContextLines_ShowNeighboursOnce()
    {
        var result = await new ToolHarness("a\nb\nhit\nc\nd\nhit\ne").RunAsync("grep", new { pattern = "hit", context_lines = 1 });
        Assert.Contains("1-  b\n2 @4: hit\n3-  c\n4-  d\n5 @12: hit\n6-  e\n", result.Text);
    }

    [Fact]
    public async Task Grep_MatchFarIntoALongLine_ShowsAWindowAroundTheMatch()
    {
        string line = string.Concat(Enumerable.Repeat("The grass is green. ", 2_000)) + "The magic number is 90210. " + string.Concat(Enumerable.Repeat("The sky is blue. ", 500));
        var result = await new ToolHarness(line).RunAsync("grep", new { pattern = "magic number" });
        Assert.Contains("The magic number is 90210.", result.Text);
        Assert.Contains("…[39,", result.Text); // the cut head is counted
        Assert.Matches(@" …\[[\d,]+ chars\]\n", result.Text); // and so is the cut tail
    }

    [Theory]
    [InlineData(0)]
    [InlineData(950)]
    [InlineData(5_000)]
    public void GrepExcerpt_KeepsTheMatchInsideTheWindow(int matchAt)
    {
        string line = new string('x', matchAt) + "NEEDLE" + new string('y', 6_000 - matchAt);
        string excerpt = GrepSearch.Excerpt(line, matchAt, "NEEDLE".Length, 500);
        Assert.Contains("NEEDLE", excerpt);
        Assert.True(excerpt.Length < 540);
    }

    [Fact]
    public async Task Grep_InvalidPattern_ReturnsErrorToModel()
    {
        var result = await new ToolHarness("abc").RunAsync("grep", new { pattern = "(unclosed" });
        Assert.True(result.IsError);
        Assert.StartsWith("Error: grep: invalid regular expression", result.Text);
    }

    [Fact]
    public async Task Grep_CatastrophicPattern_TimesOutWithClearError()
    {
        string text = new string('a', 5_000) + "!";
        var options = new RlmOptions { RegexTimeout = TimeSpan.FromMilliseconds(100) };
        var result = await new ToolHarness(text, options).RunAsync("grep", new { pattern = "^(a+)+$" });
        Assert.True(result.IsError);
        Assert.Contains("ran too long", result.Text);
    }

    [Fact]
    public async Task Grep_MultiDocument_NamesDocumentAndLine()
    {
        var view = new ContextView(ContextText.FromDocuments([new RlmDocument("one.txt", "x\ny"), new RlmDocument("src/two.cs", "class Needle {}\n")]));
        var result = await new ToolHarness(view).RunAsync("grep", new { pattern = "Needle" });
        Assert.Contains("[src/two.cs:1]: class Needle {}", result.Text);
    }

    [Fact]
    public async Task Chunk_EndsMoveBackToLineBreaks_AndCoverEverything()
    {
        var h = new ToolHarness(s_lines); // 100 lines of 21 or 36 characters
        var result = await h.RunAsync("chunk", new { chunk_size = 500 });
        var chunks = JsonDocument.Parse(result.Text[result.Text.IndexOf('[')..]).RootElement.EnumerateArray()
            .Select(e => (Index: e.GetProperty("index").GetInt32(), Start: e.GetProperty("start").GetInt32(), End: e.GetProperty("end").GetInt32())).ToList();
        Assert.Equal(0, chunks[0].Start);
        Assert.Equal(s_lines.Length, chunks[^1].End);
        for (int i = 0; i < chunks.Count; i++)
        {
            Assert.Equal(i, chunks[i].Index);
            Assert.True(chunks[i].End - chunks[i].Start <= 500);
            if (i > 0)
            {
                Assert.Equal(chunks[i - 1].End, chunks[i].Start);
                Assert.Equal('\n', s_lines[chunks[i].Start - 1]);
            }
        }
    }

    [Fact]
    public void Chunk_WithOverlap_SharesCharactersAndProgresses()
    {
        string text = new('x', 1_000); // no line breaks: ends stay where the size puts them
        var chunks = RlmToolSet.ComputeChunks(text, 300, 50);
        Assert.Equal([(0, 300), (250, 550), (500, 800), (750, 1000)], chunks);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(100, 100)]
    [InlineData(100, -1)]
    public async Task Chunk_InvalidSizes_ReturnErrors(int size, int overlap)
    {
        var result = await new ToolHarness(s_lines).RunAsync("chunk", new { chunk_size = size, overlap });
        Assert.True(result.IsError);
    }

    [Fact]
    public async Task Chunk_TooManyChunks_ReturnsError()
    {
        var result = await new ToolHarness(new string('x', 20_001)).RunAsync("chunk", new { chunk_size = 2 });
        Assert.True(result.IsError);
        Assert.Contains("at most 10,000", result.Text);
    }

    [Fact]
    public async Task SubLlm_PassesAViewOfTheRange()
    {
        var h = new ToolHarness(s_lines);
        var result = await h.RunAsync("sub_llm", new { query = "what?", start = 10, end = 40 });
        Assert.Equal("answer for [10,40)", result.Text);
        var (query, slice) = Assert.Single(h.SubCalls);
        Assert.Equal("what?", query);
        Assert.Same(h.View.Source, slice.Source);
    }

    [Fact]
    public async Task SubLlm_EmptyRange_IsAnErrorWithoutASubCall()
    {
        var h = new ToolHarness("abc");
        var result = await h.RunAsync("sub_llm", new { query = "q", start = 5, end = 9 });
        Assert.True(result.IsError);
        Assert.Empty(h.SubCalls);
    }

    [Fact]
    public async Task Variables_SetGetAndFinalVar()
    {
        var h = new ToolHarness("abc");
        Assert.False((await h.RunAsync("set_variable", new { name = "partial", value = "42 items" })).IsError);
        Assert.Equal("42 items", (await h.RunAsync("get_variable", new { name = "partial" })).Text);
        var final = await h.RunAsync("final_var", new { name = "partial" });
        Assert.Equal("42 items", final.FinalAnswer);
        Assert.Equal(RlmStopReason.FinalVariable, final.StopReason);
    }

    [Fact]
    public async Task FinalVar_UnknownName_IsAnErrorListingTheVariables()
    {
        var h = new ToolHarness("abc");
        h.Variables.Set("known", "v");
        var result = await h.RunAsync("final_var", new { name = "missing" });
        Assert.True(result.IsError);
        Assert.Null(result.FinalAnswer);
        Assert.Contains("Stored variables: known", result.Text);
    }

    [Fact]
    public async Task SetVariable_InvalidName_IsAnError()
    {
        var result = await new ToolHarness("abc").RunAsync("set_variable", new { name = "bad name!", value = "v" });
        Assert.True(result.IsError);
    }

    [Fact]
    public async Task MissingArgument_IsAnErrorNamingItAndTheSignature()
    {
        var result = await new ToolHarness("abc").RunAsync("peek", new { start = 0 });
        Assert.True(result.IsError);
        Assert.Contains("missing required argument 'end'", result.Text);
        Assert.Contains("peek(start, end)", result.Text);
    }

    [Fact]
    public async Task MistypedArgument_IsAnErrorShowingTheValue()
    {
        var result = await new ToolHarness("abc").RunAsync("peek", new { start = "zero", end = 2 });
        Assert.True(result.IsError);
        Assert.Contains("argument 'start' must be an integer, got \"zero\"", result.Text);
    }

    [Fact]
    public async Task JsonElementArguments_AreRead()
    {
        var h = new ToolHarness("0123456789");
        var args = JsonSerializer.Deserialize<Dictionary<string, object?>>("""{"start": 1, "end": "3"}""")!;
        var result = await h.Tools["peek"].RunAsync(args, h.Context, CancellationToken.None);
        Assert.EndsWith("\n12", result.Text);
    }

    [Fact]
    public async Task Final_EmptyAnswer_IsAnError()
    {
        var result = await new ToolHarness("abc").RunAsync("final", new { answer = "  " });
        Assert.True(result.IsError);
        Assert.Null(result.FinalAnswer);
    }

    [Fact]
    public async Task Results_AreTypedRecords_CarriedAsTheContentsRawRepresentation()
    {
        var h = new ToolHarness(s_lines);
        var result = await h.RunAsync("grep", new { pattern = "error", max_results = 2, context_lines = 1 });

        var grep = Assert.IsType<GrepResult>(result.Output);
        Assert.Equal(10, grep.TotalLines);
        Assert.Equal([0, 10], grep.Matches.Select(m => m.Hit.Line));
        Assert.Equal([9], grep.Matches[1].Before.Select(l => l.Number));
        var content = result.ToContent("call_1");
        Assert.Equal(result.Text, content.Result);
        Assert.Same(grep, content.RawRepresentation);
        Assert.Equal(result.Text, ToolResultFormatter.Format(grep, h.Context.Options.MaxToolOutputChars));
    }

    [Fact]
    public async Task PeekLines_CarriesTheViewsSize()
    {
        var result = await new ToolHarness(s_lines).RunAsync("peek_lines", new { start = 0, end = 0 });
        var lines = Assert.IsType<PeekLinesResult>(result.Output);
        Assert.Equal((s_lines.Length, 100), (lines.TotalCharacters, lines.TotalLines));
        Assert.Empty(lines.Lines);
    }

    [Fact]
    public async Task ArgumentErrors_AreTypedToolErrors()
    {
        var result = await new ToolHarness("abc").RunAsync("peek", new { start = "zero", end = 2 });
        var error = Assert.IsType<ToolError>(result.Output);
        Assert.Equal("Error: " + error.Message, result.Text);
        Assert.Same(error, result.ToContent("c").RawRepresentation);
    }

    [Fact]
    public async Task CallerCancellation_PropagatesAsOperationCanceled()
    {
        var h = new ToolHarness(new string('x', 1_000_000));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Tools["grep"].RunAsync(TestChatClient.ToDictionary(new { pattern = "y" }), h.Context, cancelled.Token));
    }

    [Fact]
    public async Task Tools_CannotBeInvokedAsPlainFunctions()
    {
        var tool = new ToolHarness("abc").Tools["peek"];
        await Assert.ThrowsAsync<NotSupportedException>(() => tool.InvokeAsync(new Microsoft.Extensions.AI.AIFunctionArguments { ["start"] = 0, ["end"] = 1 }).AsTask());
    }
}
