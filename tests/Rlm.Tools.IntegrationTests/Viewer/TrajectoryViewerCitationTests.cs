using System.Text.Json;
using System.Text.RegularExpressions;
using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Viewer;

/// <summary>
/// The answer's citations in the trajectory and in <c>rlm view</c>: a real <c>rlm</c> run over a real <c>--dir</c>, its root
/// model a loopback OpenAI-compatible server whose final answer cites true and false lines, written with
/// <c>--trajectory-sensitive</c>, rendered by <c>rlm view</c> and loaded in a real headless Chromium.
/// </summary>
public sealed class TrajectoryViewerCitationTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    // Citations 1 and 4 hold; 2 quotes what line 2 does not say; 3 cites a line that does not exist.
    private const string Answer = "x starts at 1 (src/a.cs:1 \"int x = 1;\"), returns y (src/a.cs:2 \"return y;\") and ends at src/a.cs:99. " +
                                  "It returns x: src/a.cs:2 \"return x;\" <b>not markup</b>";

    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    private async Task<string> RunAsync(bool sensitive)
    {
        _project.WriteText("src/a.cs", "int x = 1;\r\nreturn x;\n");
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall(Answer)));
        string trajectory = Path.Combine(_project.Path, "t.jsonl");
        string[] args = ["What does a.cs do?", "--dir", "src", "--base-url", scenario.Endpoint.ToString(), "--trajectory", trajectory];
        var run = await RlmProcess.RunAsync(sensitive ? [.. args, "--trajectory-sensitive"] : args, workingDirectory: _project.Path);
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        return trajectory;
    }

    private async Task<string> ViewAsync(string trajectory)
    {
        string html = Path.Combine(_project.Path, "t.html");
        var view = await RlmProcess.RunAsync(["view", trajectory, "-o", html]);
        Assert.True(view.ExitCode == 0, view.ToString());
        return html;
    }

    [Fact]
    public async Task Trajectory_EachCitationCarriesItsLinesText_WhereTheLineExists()
    {
        string trajectory = await RunAsync(sensitive: true);

        string lines = await File.ReadAllTextAsync(trajectory);
        JsonSchemaTests.AssertValidTrajectory(lines, "rlm --trajectory --trajectory-sensitive");
        using var run = JsonDocument.Parse(lines.Split('\n')[0]);
        var citations = run.RootElement.GetProperty("citations").EnumerateArray().ToList();
        Assert.Equal([true, false, false, true], citations.Select(c => c.GetProperty("verified").GetBoolean()));
        Assert.Equal(("src/a.cs", 1, "int x = 1;"), Source(citations[0])); // the CR of the CRLF line is not part of its text
        Assert.Equal(("src/a.cs", 2, "return x;"), Source(citations[1])); // the line the false quote claims: the reader sees it does not say that
        Assert.False(citations[2].TryGetProperty("source", out _)); // line 99 does not exist
        Assert.Equal(("src/a.cs", 2, "return x;"), Source(citations[3]));
    }

    [Fact]
    public async Task Json_HasNoLineText_OnlyTheTrajectoryCarriesIt()
    {
        _project.WriteText("src/a.cs", "int x = 1;\nreturn x;\n");
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall(Answer)));

        var run = await RlmProcess.RunAsync(["What does a.cs do?", "--dir", "src", "--base-url", scenario.Endpoint.ToString(), "--json"], workingDirectory: _project.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        JsonSchemaTests.AssertValidResult(run.StdOut, "rlm --json");
        using var json = JsonDocument.Parse(run.StdOut);
        Assert.Equal(4, json.RootElement.GetProperty("citations").GetArrayLength());
        Assert.All(json.RootElement.GetProperty("citations").EnumerateArray(), c => Assert.False(c.TryGetProperty("source", out _)));
    }

    [Fact]
    public async Task View_InHeadlessChromium_MarksEachCitation_LinksItToItsLinesText()
    {
        string html = await ViewAsync(await RunAsync(sensitive: true));

        string dom = await HeadlessChromium.RunAsync(_project.Path, "--dump-dom", new Uri(html).AbsoluteUri);

        Assert.Contains("data-ready=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("<ul id=\"errors\"></ul>", dom, StringComparison.Ordinal);

        // Four marks in the answer, in order, each on the citation's own text, verified and unverified told apart.
        string answer = Regex.Match(dom, "<div class=\"answer\" id=\"answer\">(.*?)</div>", RegexOptions.Singleline).Groups[1].Value;
        var marks = Regex.Matches(answer, "<a class=\"cite (\\w+)\"([^>]*)>([^<]*)</a>").ToList();
        Assert.Equal(["verified", "unverified", "unverified", "verified"], marks.Select(m => m.Groups[1].Value));
        Assert.Equal(["src/a.cs:1", "src/a.cs:2", "src/a.cs:99", "src/a.cs:2"], marks.Select(m => m.Groups[3].Value));
        Assert.Contains("&lt;b&gt;not markup&lt;/b&gt;", answer, StringComparison.Ordinal); // the answer is text, never markup
        Assert.Contains("title=\"unverified: the quote occurs nowhere in the context\"", marks[1].Groups[2].Value, StringComparison.Ordinal);
        Assert.Contains("title=\"unverified: src/a.cs has 2 lines; line 99 does not exist\"", marks[2].Groups[2].Value, StringComparison.Ordinal);
        Assert.Contains("title=\"verified: src/a.cs:1 int x = 1;\"", marks[0].Groups[2].Value, StringComparison.Ordinal);

        // Each mark's link names an element of the page, the citation's entry, which holds the cited line's text and number.
        string[] expected = ["int x = 1;", "return x;", null!, "return x;"];
        for (int i = 0; i < marks.Count; i++)
        {
            string target = Regex.Match(marks[i].Groups[2].Value, "href=\"#([^\"]+)\"").Groups[1].Value;
            Assert.Equal($"citation-{i + 1}", target);
            string entry = Element(dom, "li", target);
            Assert.Contains($"class=\"citation {marks[i].Groups[1].Value}\"", entry, StringComparison.Ordinal);
            if (expected[i] is { } text)
            {
                Assert.Matches($"<div class=\"where\">src/a.cs:{(i == 0 ? 1 : 2)}</div><pre class=\"line-text\"><span class=\"ln\">{(i == 0 ? 1 : 2)}</span>{Regex.Escape(text)}</pre>", entry);
            }
            else
            {
                Assert.Contains("src/a.cs has 2 lines; line 99 does not exist", entry, StringComparison.Ordinal);
                Assert.Contains("No line's text to show", entry, StringComparison.Ordinal);
                Assert.DoesNotContain("line-text", entry, StringComparison.Ordinal);
            }

            Assert.Contains($"href=\"#cite-{i + 1}\"", entry, StringComparison.Ordinal); // and back to the mark
        }

        Assert.Contains("<div class=\"summary-line\" id=\"citations-summary\">2 of 4 verified</div>", dom, StringComparison.Ordinal);

        // Following a mark's link (the page at #citation-2, as a click leaves it) frames that entry and no other.
        string followed = await HeadlessChromium.RunAsync(_project.Path, "--dump-dom", new Uri(html).AbsoluteUri + "#citation-2");
        Assert.Contains("<li class=\"citation unverified current\" id=\"citation-2\">", followed, StringComparison.Ordinal);
        Assert.Single(Regex.Matches(followed, "class=\"[^\"]*\\bcurrent\\b"));

        string screenshot = Path.Combine(HeadlessChromium.ScreenshotDirectory(), "trajectory-viewer-citations.png");
        File.Delete(screenshot);
        await HeadlessChromium.RunAsync(_project.Path, "--screenshot=" + screenshot, new Uri(html).AbsoluteUri);
        Assert.True(File.Exists(screenshot), $"no screenshot at {screenshot}");
    }

    [Fact]
    public async Task View_WithoutSensitiveData_SaysTheCitationsWereNotRecorded_AndShowsNoLineText()
    {
        string trajectory = await RunAsync(sensitive: false);
        Assert.DoesNotContain("int x = 1;", await File.ReadAllTextAsync(trajectory), StringComparison.Ordinal);
        string html = await ViewAsync(trajectory);

        string dom = await HeadlessChromium.RunAsync(_project.Path, "--dump-dom", new Uri(html).AbsoluteUri);

        Assert.Contains("data-ready=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("<ul id=\"errors\"></ul>", dom, StringComparison.Ordinal);
        Assert.Contains("Not recorded: written without sensitive data", Element(dom, "div", "citations-box"), StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"cite ", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("int x = 1;", dom, StringComparison.Ordinal);
    }

    [Fact]
    public async Task View_OfAnOlderTrajectory_WithoutLineText_SaysSoInTheEntry()
    {
        // A sensitive run line as written before the line's text was recorded: citations without source.
        string[] lines =
        [
            """{"type":"run","format":"rlm-trajectory","version":2,"stop_reason":"final","is_final":true,"sensitive":true,"answer":"see a.cs:1 now","citations":[{"text":"a.cs:1","answer_offset":4,"document":"a.cs","line":1,"offset":0,"verified":true}],"statistics":{}}""",
            """{"type":"node","id":1,"parent_id":null,"kind":"session","label":"root session","depth":0,"started_ms":0,"duration_ms":5}""",
        ];
        string jsonl = _project.WriteText("old.jsonl", string.Join('\n', lines) + "\n");
        string html = await ViewAsync(jsonl);

        string dom = await HeadlessChromium.RunAsync(_project.Path, "--dump-dom", new Uri(html).AbsoluteUri);

        Assert.Contains("<ul id=\"errors\"></ul>", dom, StringComparison.Ordinal);
        Assert.Matches("<a class=\"cite verified\" id=\"cite-1\" href=\"#citation-1\" title=\"verified\">a.cs:1</a>", dom);
        Assert.Contains("The line's text is not in this trajectory", Element(dom, "li", "citation-1"), StringComparison.Ordinal);
    }

    private static (string? Document, int Line, string Text) Source(JsonElement citation)
    {
        var source = citation.GetProperty("source");
        return (source.TryGetProperty("document", out var d) ? d.GetString() : null, source.GetProperty("line").GetInt32(), source.GetProperty("text").GetString()!);
    }

    /// <summary>The outer HTML of the element with <paramref name="id"/> in the dumped DOM (elements of that tag do not nest in these pages).</summary>
    private static string Element(string dom, string tag, string id)
    {
        int start = dom.IndexOf($"id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(start > 0, $"no element with id {id}");
        start = dom.LastIndexOf('<', start);
        int end = dom.IndexOf($"</{tag}>", start, StringComparison.Ordinal);
        return dom[start..(end + tag.Length + 3)];
    }
}
