using System.Text.RegularExpressions;
using Rlm.Tools.IntegrationTests.Mcp;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// Citations a person can open: <c>rlm --dir src</c> (and <c>rlm chat</c>, <c>rlm mcp</c>) name documents as
/// <c>grep -r src</c> names files, and the offline model's answer cites <c>file:line</c> (1-based) that open from the
/// working directory, each once. Real <c>rlm</c> processes over a real tree.
/// </summary>
public sealed partial class CliCitationTests : IDisposable
{
    private const string Question = "Which file declares the class ModelDispatcher?";
    private readonly TempDirectory _project = new();

    public CliCitationTests()
    {
        // Long enough (over 8,000 characters) for the offline model to chunk the context and fan out to workers.
        string filler = string.Concat(Enumerable.Range(1, 300).Select(i => $"// filler line {i} about other things entirely\n"));
        _project.WriteText("src/Engine/Dispatch.cs", "namespace Engine;\n\n" + filler + "internal sealed class ModelDispatcher\n{\n}\n");
        _project.WriteText("src/Engine/Queue.cs", "namespace Engine;\n\n" + filler + "// uses the ModelDispatcher class to send requests\n");
        _project.WriteText("README.md", "A project.\n");
    }

    public void Dispose() => _project.Dispose();

    [Fact]
    public async Task WorkerFindings_NeverCiteADocumentHeaderLine()
    {
        // A file named after the keyword: its header line (==> src/Engine/ModelDispatcher.txt <==) matches too, but it is
        // a name, not a line of any file.
        string filler = string.Concat(Enumerable.Range(1, 300).Select(i => $"// more filler {i} about other things entirely\n"));
        _project.WriteText("src/Engine/ModelDispatcher.txt", filler);

        var run = await RlmProcess.RunAsync([Question, "--dir", "src", "--json"], workingDirectory: _project.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(run.StdOut);
        string answer = json.RootElement.GetProperty("answer").GetString()!;
        Assert.DoesNotContain("==>", answer, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\n- line \d+:", answer);
        AssertCitationsOpen(answer, _project.Path);
    }

    [Fact]
    public async Task Dir_Relative_AnswerCitesPathsAndLinesThatOpenFromTheWorkingDirectory()
    {
        var run = await RlmProcess.RunAsync([Question, "--dir", "src"], workingDirectory: _project.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("src/Engine/Dispatch.cs:303: internal sealed class ModelDispatcher", run.StdOut, StringComparison.Ordinal);
        AssertCitationsOpen(run.StdOut, _project.Path);
    }

    [Fact]
    public async Task WorkerFindings_CiteFileAndLine_NotCharacterOffsets_EachOnce()
    {
        var run = await RlmProcess.RunAsync([Question, "--dir", "src", "--json"], workingDirectory: _project.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(run.StdOut);
        string answer = json.RootElement.GetProperty("answer").GetString()!;
        Assert.True(json.RootElement.GetProperty("statistics").GetProperty("sub_calls").GetInt32() > 0, answer);
        int findings = answer.IndexOf("Worker findings:\n", StringComparison.Ordinal);
        Assert.True(findings > 0, answer);
        string[] lines = answer[(findings + "Worker findings:\n".Length)..].Split('\n');
        Assert.DoesNotContain("characters ", answer, StringComparison.Ordinal);
        Assert.All(lines, l => Assert.Matches(@"^- (confirm )?src/Engine/\w+\.cs:\d+", l));
        Assert.Equal(lines.Length, lines.Distinct(StringComparer.Ordinal).Count());
        var cited = CitationPattern().Matches(string.Join('\n', lines)).Select(m => m.Value).ToList();
        Assert.Equal(cited.Count, cited.Distinct(StringComparer.Ordinal).Count());
        AssertCitationsOpen(answer, _project.Path);
    }

    [Fact]
    public async Task Dir_Dot_AbsoluteUnderTheWorkingDirectory_AndAbsoluteOutsideIt()
    {
        string src = Path.Combine(_project.Path, "src");

        var dot = await RlmProcess.RunAsync([Question, "--dir", "."], workingDirectory: src);
        Assert.True(dot.ExitCode == 0, dot.ToString());
        Assert.Contains("\n- Engine/Dispatch.cs:303:", dot.StdOut, StringComparison.Ordinal);
        AssertCitationsOpen(dot.StdOut, src);

        var under = await RlmProcess.RunAsync([Question, "--dir", src + "/"], workingDirectory: _project.Path);
        Assert.True(under.ExitCode == 0, under.ToString());
        Assert.Contains("\n- src/Engine/Dispatch.cs:303:", under.StdOut, StringComparison.Ordinal);

        using var elsewhere = new TempDirectory();
        var outside = await RlmProcess.RunAsync([Question, "--dir", src], workingDirectory: elsewhere.Path);
        Assert.True(outside.ExitCode == 0, outside.ToString());
        Assert.Contains($"\n- {src}/Engine/Dispatch.cs:303:", outside.StdOut, StringComparison.Ordinal);
        AssertCitationsOpen(outside.StdOut, elsewhere.Path);
    }

    [Fact]
    public async Task Chat_AndMcp_NameDocumentsTheSameWay()
    {
        var chat = await RlmProcess.RunAsync(["chat", "--dir", "src"], stdin: Question + "\n", workingDirectory: _project.Path);
        Assert.True(chat.ExitCode == 0, chat.ToString());
        Assert.Contains("src/Engine/Dispatch.cs:303:", chat.StdOut, StringComparison.Ordinal);

        // The MCP client starts the server in the temporary folder: a --dir under it is named relative to it.
        await using var mcp = await RlmMcpClient.StartAsync(["--dir", Path.Combine(_project.Path, "src")]).WaitAsync(TimeSpan.FromSeconds(90));
        string listed = McpServerTests.Text(await mcp.Client.CallToolAsync("list_documents"));
        string expected = Path.GetRelativePath(Path.GetTempPath(), Path.Combine(_project.Path, "src", "Engine", "Dispatch.cs"));
        Assert.Contains(expected + "\t", listed, StringComparison.Ordinal);
    }

    /// <summary>Every <c>path:line: text</c> of the answer names a file that exists from <paramref name="cwd"/> whose line holds the text.</summary>
    private static void AssertCitationsOpen(string answer, string cwd)
    {
        var quoted = QuotedLinePattern().Matches(answer).ToList();
        Assert.NotEmpty(quoted);
        foreach (Match m in quoted)
        {
            string path = Path.Combine(cwd, m.Groups["path"].Value);
            Assert.True(File.Exists(path), $"{m.Groups["path"].Value} does not open from {cwd}");
            string[] fileLines = File.ReadAllLines(path);
            int line = int.Parse(m.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(m.Groups["text"].Value.Trim(), fileLines[line - 1].Trim());
        }

        foreach (Match m in CitationPattern().Matches(answer))
        {
            Assert.True(File.Exists(Path.Combine(cwd, m.Value[..m.Value.LastIndexOf(':')])), $"{m.Value} does not open from {cwd}");
        }
    }

    [GeneratedRegex(@"^- (?<path>[^\s:]+):(?<line>\d+): (?<text>.+)$", RegexOptions.Multiline)]
    private static partial Regex QuotedLinePattern();

    [GeneratedRegex(@"[^\s,:]+\.cs:\d+")]
    private static partial Regex CitationPattern();
}
