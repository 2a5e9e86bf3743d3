using System.Text.Json;
using Rlm.Tools.IntegrationTests.Mcp;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>--glob</c> and <c>--iglob</c> as ripgrep users type them (repeated, <c>!</c> exclusions, braces, case-insensitive),
/// the same on <c>rlm</c>, <c>rlm chat</c> and <c>rlm mcp</c>: real processes over a real tree.
/// </summary>
public sealed class CliGlobTests : IDisposable
{
    private readonly TempDirectory _tree = new();

    public CliGlobTests()
    {
        _tree.WriteText("proj/README.md", "The project codename is BLUEFIN.\n");
        _tree.WriteText("proj/NOTES.MD", "The release codename is MARLIN.\n");
        _tree.WriteText("proj/src/App.cs", "// App: codename ORCA\n");
        _tree.WriteText("proj/src/AppTests.cs", "// tests: codename SQUID\n");
        _tree.WriteText("proj/tests/More.cs", "// more tests: codename EEL\n");
        _tree.WriteText("proj/build.sh", "echo codename SHARK\n");
    }

    public void Dispose() => _tree.Dispose();

    private async Task<int> DocumentCountAsync(params string[] globArgs)
    {
        var run = await RlmProcess.RunAsync(["What is the codename?", "--dir", "proj", "--json", .. globArgs], workingDirectory: _tree.Path);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.StdOut);
        return json.RootElement.GetProperty("input").GetProperty("documents").GetInt32();
    }

    [Fact]
    public async Task Rlm_RepeatedGlobs_Exclusions_Braces_AndIGlob()
    {
        Assert.Equal(3, await DocumentCountAsync("--glob", "*.cs"));
        Assert.Equal(4, await DocumentCountAsync("-g", "*.cs", "-g", "*.sh"));
        Assert.Equal(4, await DocumentCountAsync("--glob", "*.{cs,md}"));
        Assert.Equal(3, await DocumentCountAsync("--glob", "!*.cs"));
        Assert.Equal(1, await DocumentCountAsync("--glob", "*.cs", "--glob", "!*Tests.cs", "--glob", "!tests"));
        Assert.Equal(2, await DocumentCountAsync("--iglob", "*.md"));
        Assert.Equal(1, await DocumentCountAsync("--glob=*.md"));
    }

    [Fact]
    public async Task Rlm_AnExcludedFile_IsNotRead()
    {
        var run = await RlmProcess.RunAsync(["What is the codename?", "--dir", "proj", "--glob", "!*.cs", "--glob", "!*.sh", "--iglob", "!notes.md"], workingDirectory: _tree.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("proj/README.md:1: The project codename is BLUEFIN.", run.StdOut, StringComparison.Ordinal);
        foreach (string hidden in new[] { "MARLIN", "ORCA", "SQUID", "EEL", "SHARK" })
        {
            Assert.DoesNotContain(hidden, run.StdOut, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Mcp_And_Chat_TakeTheSameGlobs()
    {
        await using var mcp = await RlmMcpClient.StartAsync(["--dir", Path.Combine(_tree.Path, "proj"), "--glob", "*.{cs,sh}", "--glob", "!tests/", "--iglob", "readme.MD"]).WaitAsync(TimeSpan.FromSeconds(90));
        string listed = McpServerTests.Text(await mcp.Client.CallToolAsync("list_documents"));
        Assert.StartsWith("4 documents", listed, StringComparison.Ordinal);
        Assert.Contains("proj/README.md\t", listed, StringComparison.Ordinal);
        Assert.DoesNotContain("More.cs", listed, StringComparison.Ordinal);

        var chat = await RlmProcess.RunAsync(["chat", "--dir", "proj", "--glob", "*.sh"], stdin: "What is the codename?\n", workingDirectory: _tree.Path);
        Assert.True(chat.ExitCode == 0, chat.ToString());
        Assert.Contains("proj/build.sh:1: echo codename SHARK", chat.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("BLUEFIN", chat.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_SaysWhatGlobsSupport_AndABadGlobIsAUsageError()
    {
        foreach (string[] help in new[] { new[] { "--help" }, ["chat", "--help"], ["mcp", "--help"] })
        {
            var shown = await RlmProcess.RunAsync(help);
            Assert.Contains("--iglob", shown.StdOut, StringComparison.Ordinal);
            Assert.Contains("\"!*.md\"", shown.StdOut, StringComparison.Ordinal);
            Assert.Contains("\"*.{cs,md}\"", shown.StdOut, StringComparison.Ordinal);
        }

        var bad = await RlmProcess.RunAsync(["q?", "--dir", "proj", "--glob", "*.{cs"], workingDirectory: _tree.Path);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("glob *.{cs: '{' without '}'", bad.StdErr, StringComparison.Ordinal);

        var noDir = await RlmProcess.RunAsync(["q?", "--file", "proj/build.sh", "--iglob", "*.md"], workingDirectory: _tree.Path);
        Assert.Equal(2, noDir.ExitCode);
        Assert.Contains("--iglob works only with --dir", noDir.StdErr, StringComparison.Ordinal);
    }
}
