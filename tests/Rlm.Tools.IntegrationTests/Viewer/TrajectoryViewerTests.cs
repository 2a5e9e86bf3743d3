using System.Text;
using System.Text.Json;
using Rlm.Tools.IntegrationTests.Cli;

namespace Rlm.Tools.IntegrationTests.Viewer;

/// <summary>
/// The trajectory JSON Lines format and <c>rlm view</c>: a real offline run over several documents (so there are parallel
/// sub-calls), written, read back, rendered by the built <c>rlm</c>, and loaded in a real headless Chromium.
/// </summary>
public sealed class TrajectoryViewerTests
{
    private const string Question = "which error codes are reported?";

    private static async Task<RlmResult> RunAsync()
    {
        var documents = Enumerable.Range(0, 6).Select(i => new RlmDocument(
            $"doc{i}.txt",
            string.Concat(Enumerable.Range(0, 3000).Select(j => $"Line {j} of report {i}: filler text about systems.\n")) +
            $"The error code is E{i}0 in module alpha. SECRET-{i}\n")).ToList();
        return await new RecursiveLanguageModel(new OfflineChatClient()).QueryAsync(Question, documents);
    }

    private static string Write(RlmResult result, bool sensitive)
    {
        var text = new StringWriter { NewLine = "\n" };
        RlmTrajectoryWriter.WriteJsonLines(result, text, new RlmTrajectoryOptions { IncludeSensitiveData = sensitive, Question = Question });
        return text.ToString();
    }

    private static int CountNodes(RlmTraceNode node) => 1 + node.Children.Sum(CountNodes);

    [Fact]
    public async Task JsonLines_OneRunLineThenEveryNode_ParentsFirst_RoundTrips()
    {
        var result = await RunAsync();
        string text = Write(result, sensitive: true);
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(CountNodes(result.Trajectory) + 1, lines.Length);
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());

        var trajectory = RlmTrajectoryReader.Read(new StringReader(text));
        Assert.Equal("run", trajectory.Run.GetProperty("type").GetString());
        Assert.Equal(Question, trajectory.Run.GetProperty("question").GetString());
        Assert.Equal(result.Answer, trajectory.Run.GetProperty("answer").GetString());
        Assert.Equal(result.Statistics.SubCalls, trajectory.Run.GetProperty("statistics").GetProperty("sub_calls").GetInt32());
        Assert.True(result.Statistics.SubCalls > 1, "the run should make several sub-calls");
        Assert.Null(trajectory.Nodes[0].ParentId);
        Assert.Equal(Enumerable.Range(1, trajectory.Nodes.Count), trajectory.Nodes.Select(n => n.Id));
        Assert.Contains(trajectory.Nodes, n => n.Kind == "leaf" && n.Depth == 1);
        Assert.Contains(trajectory.Nodes, n => n.Kind == "tool_call" && n.Label.StartsWith("sub_llm(query=", StringComparison.Ordinal));
        Assert.Contains(trajectory.Nodes, n => n.Summary is not null);
    }

    [Fact]
    public async Task JsonLines_WithoutSensitiveData_HasNoQuestionAnswerSummariesOrArguments()
    {
        var result = await RunAsync();
        string text = Write(result, sensitive: false);
        Assert.DoesNotContain(Question, text, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"summary\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"answer\"", text, StringComparison.Ordinal);

        var trajectory = RlmTrajectoryReader.Read(new StringReader(text));
        Assert.False(trajectory.Run.GetProperty("sensitive").GetBoolean());
        Assert.All(trajectory.Nodes.Where(n => n.Kind == "tool_call"), n => Assert.EndsWith("(…)", n.Label, StringComparison.Ordinal));
        Assert.Equal(CountNodes(result.Trajectory), trajectory.Nodes.Count);
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("hello\n", "not JSON")]
    [InlineData("{\"type\":\"node\",\"id\":1}\n", "first line")]
    [InlineData("{\"type\":\"run\",\"format\":\"rlm-trajectory\"}\n{\"type\":\"node\",\"id\":2,\"parent_id\":1,\"kind\":\"leaf\",\"label\":\"x\"}\n", "parent 1")]
    [InlineData("{\"type\":\"run\",\"format\":\"rlm-trajectory\"}\n{\"type\":\"node\",\"id\":2,\"parent_id\":\"__proto__\",\"kind\":\"leaf\",\"label\":\"x\"}\n", "parent \"__proto__\" of node 2 is not an earlier node")]
    [InlineData("{\"type\":\"run\",\"format\":\"rlm-trajectory\"}\n{\"type\":\"node\",\"id\":\"a\",\"kind\":\"leaf\",\"label\":\"x\"}\n{\"type\":\"node\",\"id\":\"a\",\"kind\":\"leaf\",\"label\":\"y\"}\n", "node id \"a\" repeated")]
    public void Reader_RejectsWhatIsNotATrajectory(string text, string message)
    {
        var e = Assert.ThrowsAny<FormatException>(() => RlmTrajectoryReader.Read(new StringReader(text)));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task View_BadInput_IsOneLineAndExit2()
    {
        using var dir = new TempDirectory();
        var missing = await RlmProcess.RunAsync(["view", Path.Combine(dir.Path, "none.jsonl"), "-o", Path.Combine(dir.Path, "x.html")]);
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Single(missing.StdErrLines);
        Assert.Contains("no such file", missing.StdErr, StringComparison.Ordinal);

        string notTrajectory = dir.WriteText("notes.txt", "just some notes\n");
        var bad = await RlmProcess.RunAsync(["view", notTrajectory, "-o", Path.Combine(dir.Path, "x.html")]);
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.Single(bad.StdErrLines);
        Assert.Contains("not a trajectory", bad.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir.Path, "x.html")));
    }

    [Fact]
    public async Task View_OfAJsonResult_SaysWhatTheFileIsAndHowToGetATrajectory()
    {
        using var dir = new TempDirectory();
        string docs = dir.WriteText("a.txt", "The error code is E10.\n");
        var run = await RlmProcess.RunAsync([Question, "--file", docs, "--offline", "--json"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        string json = dir.WriteText("out.json", run.StdOut);

        var view = await RlmProcess.RunAsync(["view", json, "-o", Path.Combine(dir.Path, "out.html")]);

        Assert.True(view.ExitCode == 2, view.ToString());
        Assert.Single(view.StdErrLines);
        Assert.Contains("rlm --json (format rlm-result), not a trajectory", view.StdErr, StringComparison.Ordinal);
        Assert.Contains("--trajectory PATH", view.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("Expected depth", view.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_TrajectoryOption_WritesTheFile()
    {
        using var dir = new TempDirectory();
        dir.WriteText("docs/a.txt", "The error code is E10.\n");
        dir.WriteText("docs/b.txt", "The error code is E20.\n");
        string path = Path.Combine(dir.Path, "t.jsonl");
        var run = await RlmProcess.RunAsync([Question, "--dir", Path.Combine(dir.Path, "docs"), "--offline", "--trajectory", path]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var trajectory = RlmTrajectoryReader.Read(new StringReader(File.ReadAllText(path)));
        Assert.False(trajectory.Run.GetProperty("sensitive").GetBoolean());
        Assert.NotEmpty(trajectory.Nodes);
        Assert.DoesNotContain(Question, File.ReadAllText(path), StringComparison.Ordinal);

        var sensitive = await RlmProcess.RunAsync([Question, "--dir", Path.Combine(dir.Path, "docs"), "--offline", "--trajectory", path, "--trajectory-sensitive"]);
        Assert.True(sensitive.ExitCode == 0, sensitive.ToString());
        Assert.Contains(Question, File.ReadAllText(path), StringComparison.Ordinal);

        var usage = await RlmProcess.RunAsync([Question, "--dir", Path.Combine(dir.Path, "docs"), "--offline", "--trajectory-sensitive"]);
        Assert.True(usage.ExitCode == 2, usage.ToString());
    }

    [Fact]
    public async Task View_InHeadlessChromium_ShowsEveryNode_OpensANode_NoErrors_Screenshot()
    {
        using var dir = new TempDirectory();
        var result = await RunAsync();
        string jsonl = Path.Combine(dir.Path, "run.jsonl");
        await File.WriteAllTextAsync(jsonl, Write(result, sensitive: true));
        string html = Path.Combine(dir.Path, "run.html");
        var view = await RlmProcess.RunAsync(["view", jsonl, "-o", html]);
        Assert.True(view.ExitCode == 0, view.ToString());

        string page = await File.ReadAllTextAsync(html);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        Assert.DoesNotContain(" src=", page, StringComparison.Ordinal);

        var trajectory = RlmTrajectoryReader.Read(new StringReader(await File.ReadAllTextAsync(jsonl)));
        var leaf = trajectory.Nodes.Last(n => n.Kind == "leaf");
        string url = new Uri(html).AbsoluteUri + "#open=" + leaf.Id;

        string dom = await ChromiumAsync(dir.Path, "--dump-dom", url);
        Assert.Contains("data-ready=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("<ul id=\"errors\"></ul>", dom, StringComparison.Ordinal);
        foreach (var node in trajectory.Nodes)
        {
            Assert.Contains($"id=\"node-{node.Id}\"", dom, StringComparison.Ordinal);
        }

        // The opened node's details are shown (not hidden) and hold its result excerpt; another node's are hidden.
        int start = dom.IndexOf($"id=\"details-{leaf.Id}\"", StringComparison.Ordinal);
        Assert.True(start > 0);
        string openTag = dom[dom.LastIndexOf('<', start)..dom.IndexOf('>', start)];
        Assert.DoesNotContain("hidden", openTag, StringComparison.Ordinal);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(leaf.Summary!)[..20], dom, StringComparison.Ordinal);
        Assert.Contains("parallel ×", dom, StringComparison.Ordinal);
        int other = dom.IndexOf("id=\"details-1\"", StringComparison.Ordinal);
        Assert.Contains("hidden", dom[dom.LastIndexOf('<', other)..dom.IndexOf('>', other)], StringComparison.Ordinal);

        string screenshot = Path.Combine(ScreenshotDirectory(), "trajectory-viewer.png");
        File.Delete(screenshot);
        await ChromiumAsync(dir.Path, "--screenshot=" + screenshot, url);
        Assert.True(File.Exists(screenshot) && new FileInfo(screenshot).Length > 10_000, $"no screenshot at {screenshot}");
    }

    [Fact]
    public async Task View_CarriesAContentSecurityPolicy_AndThePageStillWorksUnderIt()
    {
        using var dir = new TempDirectory();
        string jsonl = Path.Combine(dir.Path, "run.jsonl");
        await File.WriteAllTextAsync(jsonl, Write(await RunAsync(), sensitive: false));
        string html = Path.Combine(dir.Path, "run.html");
        var view = await RlmProcess.RunAsync(["view", jsonl, "-o", html]);
        Assert.True(view.ExitCode == 0, view.ToString());

        string page = await File.ReadAllTextAsync(html);
        var csp = System.Text.RegularExpressions.Regex.Match(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"([^\"]+)\">");
        Assert.True(csp.Success, "no CSP meta tag");
        Assert.StartsWith("default-src 'none';", csp.Groups[1].Value, StringComparison.Ordinal);
        Assert.Matches("script-src 'sha256-[A-Za-z0-9+/=]{44}'", csp.Groups[1].Value);
        Assert.Matches("style-src 'sha256-[A-Za-z0-9+/=]{44}'", csp.Groups[1].Value);
        Assert.DoesNotContain("unsafe", csp.Groups[1].Value, StringComparison.Ordinal);
        Assert.True(page.IndexOf("Content-Security-Policy", StringComparison.Ordinal) < page.IndexOf("<style>", StringComparison.Ordinal), "the policy must come before what it governs");

        // The script ran (data-ready), the style applied and nothing was blocked (the page reports both into #errors).
        string dom = await ChromiumAsync(dir.Path, "--dump-dom", new Uri(html).AbsoluteUri);
        Assert.Contains("data-ready=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("<ul id=\"errors\"></ul>", dom, StringComparison.Ordinal);

        // Control: the same page with one character of its script changed is refused by the policy.
        string tampered = Path.Combine(dir.Path, "tampered.html");
        await File.WriteAllTextAsync(tampered, page.Replace("\"use strict\";", "\"use strict\"; ", StringComparison.Ordinal));
        Assert.DoesNotContain("data-ready=\"true\"", await ChromiumAsync(dir.Path, "--dump-dom", new Uri(tampered).AbsoluteUri), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_IdsNamedLikeObjectMembers_AreOrdinaryKeys_TheTreeRenders()
    {
        // Ids a hand-made or foreign trajectory may carry: the page must not mistake them for members of Object.prototype.
        string[] lines =
        [
            """{"type":"run","format":"rlm-trajectory","version":2,"stop_reason":"final","is_final":true,"sensitive":false,"statistics":{}}""",
            """{"type":"node","id":"__proto__","parent_id":null,"kind":"session","label":"root session","depth":0,"started_ms":0,"duration_ms":5}""",
            """{"type":"node","id":"constructor","parent_id":"__proto__","kind":"model_call","label":"model call #1 (root)","depth":0,"started_ms":1,"duration_ms":2}""",
            """{"type":"node","id":"toString","parent_id":"constructor","kind":"tool_call","label":"final(…)","depth":0,"started_ms":2,"duration_ms":1}""",
            """{"type":"node","id":"hasOwnProperty","parent_id":"__proto__","kind":"leaf","label":"leaf","depth":1,"started_ms":3,"duration_ms":1}""",
        ];
        using var dir = new TempDirectory();
        string jsonl = dir.WriteText("proto.jsonl", string.Join('\n', lines) + "\n");
        string html = Path.Combine(dir.Path, "proto.html");
        var view = await RlmProcess.RunAsync(["view", jsonl, "-o", html]);
        Assert.True(view.ExitCode == 0, view.ToString());

        string dom = await ChromiumAsync(dir.Path, "--dump-dom", new Uri(html).AbsoluteUri);
        Assert.Contains("data-ready=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("<ul id=\"errors\"></ul>", dom, StringComparison.Ordinal);

        // One root, holding the model call (holding the tool call) and the leaf: nested list items, in that order.
        int root = dom.IndexOf("id=\"node-__proto__\"", StringComparison.Ordinal);
        int model = dom.IndexOf("id=\"node-constructor\"", StringComparison.Ordinal);
        int tool = dom.IndexOf("id=\"node-toString\"", StringComparison.Ordinal);
        int leaf = dom.IndexOf("id=\"node-hasOwnProperty\"", StringComparison.Ordinal);
        Assert.True(root > 0 && root < model && model < tool && tool < leaf, dom);
        Assert.Equal(["node-__proto__"], TopLevelItems(dom)); // the others hang below it, none fell out as a root
    }

    [Fact]
    public async Task View_OfARealRlmRun_PeakConcurrencyIsTheChartsPeak_AnswerKeepsItsLineBreaks()
    {
        // As a user does it: rlm over a directory with parallel sub-calls, --trajectory, then rlm view, then a browser.
        using var dir = new TempDirectory();
        for (int i = 0; i < 6; i++)
        {
            dir.WriteText($"docs/doc{i}.txt", string.Concat(Enumerable.Range(0, 3000).Select(j => $"Line {j} of report {i}: filler text about systems.\n")) +
                $"The error code is E{i}0 in module alpha.\n");
        }

        string jsonl = Path.Combine(dir.Path, "run.jsonl");
        var run = await RlmProcess.RunAsync(["--dir", Path.Combine(dir.Path, "docs"), Question, "--trajectory", jsonl, "--trajectory-sensitive"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        string html = Path.Combine(dir.Path, "run.html");
        var view = await RlmProcess.RunAsync(["view", jsonl, "-o", html]);
        Assert.True(view.ExitCode == 0, view.ToString());

        string dom = await ChromiumAsync(dir.Path, "--dump-dom", new Uri(html).AbsoluteUri);
        Assert.Contains("data-ready=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("<ul id=\"errors\"></ul>", dom, StringComparison.Ordinal);
        var header = System.Text.RegularExpressions.Regex.Match(dom, "<div id=\"peak-concurrency\"[^>]*><b>peak concurrency: </b>(\\d+)</div>");
        var chart = System.Text.RegularExpressions.Regex.Match(dom, "<text [^>]*id=\"timeline-peak\"[^>]*>(\\d+)</text>");
        Assert.True(header.Success && chart.Success, dom);
        Assert.Equal(chart.Groups[1].Value, header.Groups[1].Value);
        Assert.True(int.Parse(header.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 1, "the run should have parallel calls");

        // The answer's lines stay lines: its text keeps the line breaks, and the page shows them (white-space: pre-wrap).
        // (Its citations are marks inside it: <a class="cite …">doc:line</a>.)
        var answer = System.Text.RegularExpressions.Regex.Match(dom, "<div class=\"answer\" id=\"answer\"><b>answer: </b>((?:[^<]|<a [^>]*>[^<]*</a>)*)</div>");
        Assert.True(answer.Success, dom);
        Assert.True(answer.Groups[1].Value.Split('\n').Length >= 7, answer.Groups[1].Value);
        Assert.Matches(@"\.answer, \.question \{ white-space: pre-wrap;", dom);

        string screenshot = Path.Combine(ScreenshotDirectory(), "trajectory-viewer-summary.png");
        File.Delete(screenshot);
        await ChromiumAsync(dir.Path, "--screenshot=" + screenshot, new Uri(html).AbsoluteUri);
        Assert.True(File.Exists(screenshot), $"no screenshot at {screenshot}");
    }

    /// <summary>The ids of the list items directly in the call tree's list of the dumped DOM.</summary>
    private static List<string> TopLevelItems(string dom)
    {
        const string Open = "<ul class=\"tree\" id=\"tree\">";
        int start = dom.IndexOf(Open, StringComparison.Ordinal) + Open.Length;
        var items = new List<string>();
        int depth = 1;
        foreach (System.Text.RegularExpressions.Match tag in System.Text.RegularExpressions.Regex.Matches(dom[start..], "<(/?)(ul|li)\\b([^>]*)>"))
        {
            bool closing = tag.Groups[1].Value == "/";
            if (tag.Groups[2].Value == "ul")
            {
                depth += closing ? -1 : 1;
                if (depth == 0)
                {
                    break;
                }
            }
            else if (!closing && depth == 1)
            {
                items.Add(System.Text.RegularExpressions.Regex.Match(tag.Groups[3].Value, "id=\"([^\"]*)\"").Groups[1].Value);
            }
        }

        return items;
    }

    private static string ScreenshotDirectory() => HeadlessChromium.ScreenshotDirectory();

    private static Task<string> ChromiumAsync(string workDir, string mode, string url) => HeadlessChromium.RunAsync(workDir, mode, url);
}
