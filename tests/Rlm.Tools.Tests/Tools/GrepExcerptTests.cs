using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Tools;

/// <summary>
/// A grep hit anywhere in a long line shows the match, centred, with what was cut on each side counted: through the
/// public API (a scripted root model calls grep and reads the result) and through the offline model's answer.
/// </summary>
[Collection(GrepTimingCollection.Name)]
public sealed class GrepExcerptTests
{
    private const string Marker = "MARKER";

    public static TheoryData<int, string> Lines() => new()
    {
        { 10_000, "start" }, { 10_000, "middle" }, { 10_000, "end" },
        { 1_000_000, "start" }, { 1_000_000, "middle" }, { 1_000_000, "end" },
        { 50_000_000, "start" }, { 50_000_000, "middle" }, { 50_000_000, "end" },
    };

    private static string Line(int length, string where, out int markerAt)
    {
        markerAt = where switch { "start" => 0, "middle" => length / 2, _ => length - Marker.Length };
        int at = markerAt;
        return string.Create(length, at, static (span, at) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = i % 5 == 4 ? ' ' : "word"[i % 5];
            }

            Marker.AsSpan().CopyTo(span[at..]);
        });
    }

    [Theory]
    [MemberData(nameof(Lines))]
    public async Task GrepTool_HitAnywhereInALongLine_ShowsTheMatchWithBothCutsCounted(int length, string where)
    {
        string line = Line(length, where, out int markerAt);
        string? seen = null;
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("grep", new { pattern = Marker })),
            messages =>
            {
                seen = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Last().Result?.ToString();
                return TestChatClient.Calls(("final", new { answer = "done" }));
            });

        var result = await new RecursiveLanguageModel(root).QueryAsync("where is the marker?", line + "\nsecond line\n");

        Assert.True(result.IsFinal);
        Assert.NotNull(seen);
        Assert.StartsWith("1 matching line for /MARKER/i\n", seen);
        string hit = seen.Split('\n')[1];
        Assert.StartsWith("0 @0: ", hit);
        string excerpt = hit["0 @0: ".Length..];
        Assert.Contains(Marker, excerpt);

        // The counts on both sides and the text shown add up to the whole line, and the shown text is the line's own.
        var cut = Regex.Match(excerpt, @"^(?:…\[(?<before>[\d,]+) chars\] )?(?<shown>.*?)(?: …\[(?<after>[\d,]+) chars\])?$", RegexOptions.Singleline);
        Assert.True(cut.Success, excerpt);
        int before = Count(cut.Groups["before"]);
        int after = Count(cut.Groups["after"]);
        string shown = cut.Groups["shown"].Value;
        Assert.Equal(length, before + shown.Length + after);
        Assert.Equal(line.Substring(before, shown.Length), shown);
        Assert.InRange(shown.Length, 400, 500);

        // Centred: the match sits in the middle of the window unless the line's start or end is within half a window.
        int matchInWindow = markerAt - before;
        if (before > 0 && after > 0)
        {
            Assert.InRange(matchInWindow, 200, 300);
        }

        Assert.Equal(where == "start", before == 0);
        Assert.Equal(where == "end", after == 0);
    }

    [Fact]
    public async Task OfflineModel_HitNearTheEndOfALongLine_AnswerHoldsTheMatch()
    {
        // The example of the report: 10,000 characters of words, the marker, then 200 more.
        string context = string.Concat(Enumerable.Repeat("word ", 2000)) + "MARKER " + new string('z', 200);

        var result = await new RecursiveLanguageModel(new OfflineChatClient()).QueryAsync("where is MARKER?", context);

        Assert.True(result.IsFinal);
        Assert.Contains("MARKER", result.Answer);
        Assert.Matches(@"…\[9,\d{3} chars\] ", result.Answer);
    }

    [Fact]
    public async Task OfflineWorker_KeywordFarIntoALongSlice_FindingHoldsIt()
    {
        // A sub-call reads a slice whose one long line holds the keyword near its end: its finding must show the keyword.
        string slice = string.Concat(Enumerable.Repeat("word ", 3000)) + "the vault code is QX-7781 " + new string('z', 300);
        var offline = new OfflineChatClient();
        var response = await offline.GetResponseAsync([new ChatMessage(ChatRole.User, $"<question>what is the vault code?</question>\n<context>{slice}</context>")]);

        Assert.Contains("QX-7781", response.Text);
    }

    private static int Count(Group group) => group.Success ? int.Parse(group.Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : 0;
}
