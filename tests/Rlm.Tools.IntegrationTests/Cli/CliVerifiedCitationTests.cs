using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// The host's check of an answer's citations, where a user of <c>rlm</c> looks: <c>-v</c>, <c>--json</c> and the trajectory.
/// A real <c>rlm</c> process over a real <c>--dir</c>, its root model a loopback OpenAI-compatible server whose scripted
/// final answer cites one true line, one fabricated quote and one line that does not exist.
/// </summary>
public sealed class CliVerifiedCitationTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private const string Answer = "x starts at 1 (src/a.cs:1 \"int x = 1;\"), returns y (src/a.cs:2 \"return y;\") and ends at src/a.cs:99.";
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    [Fact]
    public async Task JsonVerboseAndTrajectory_ReportEachCitation_TheFalseOnesWithTheirReason()
    {
        _project.WriteText("src/a.cs", "int x = 1;\nreturn x;\n");
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall(Answer)));
        string trajectory = Path.Combine(_project.Path, "t.jsonl");

        var run = await RlmProcess.RunAsync(
            ["What does a.cs do?", "--dir", "src", "--base-url", scenario.Endpoint.ToString(), "--json", "-v", "--trajectory", trajectory, "--trajectory-sensitive"],
            workingDirectory: _project.Path);

        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        JsonSchemaTests.AssertValidResult(run.StdOut, "rlm --json");
        using var json = JsonDocument.Parse(run.StdOut);
        var citations = json.RootElement.GetProperty("citations").EnumerateArray().ToList();
        Assert.Equal(3, citations.Count);
        Assert.Equal(("src/a.cs", 1, true), (citations[0].GetProperty("document").GetString(), citations[0].GetProperty("line").GetInt32(), citations[0].GetProperty("verified").GetBoolean()));
        Assert.Equal(0, citations[0].GetProperty("offset").GetInt32());
        Assert.False(citations[1].GetProperty("verified").GetBoolean());
        Assert.Equal("the quote occurs nowhere in the context", citations[1].GetProperty("reason").GetString());
        Assert.Equal("src/a.cs has 2 lines; line 99 does not exist", citations[2].GetProperty("reason").GetString());

        Assert.Contains("citations: 1 of 3 verified", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("x unverified src/a.cs:2 \"return y;\": the quote occurs nowhere in the context", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("x unverified src/a.cs:99: src/a.cs has 2 lines; line 99 does not exist", run.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, run.StdErr.Split('\n').Count(l => l.Contains("x unverified", StringComparison.Ordinal)));

        string lines = await File.ReadAllTextAsync(trajectory);
        JsonSchemaTests.AssertValidTrajectory(lines, "rlm --trajectory");
        using var first = JsonDocument.Parse(lines.Split('\n')[0]);
        Assert.Equal(3, first.RootElement.GetProperty("citations").GetArrayLength());
    }

    [Fact]
    public async Task OfflineModel_CitesLinesThatTheHostVerifies()
    {
        _project.WriteText("src/a.cs", "int x = 1;\n// the ModelDispatcher sends requests\nreturn x;\n");

        var run = await RlmProcess.RunAsync(["Where is the ModelDispatcher?", "--dir", "src", "--offline", "--json"], workingDirectory: _project.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.StdOut);
        var citations = json.RootElement.GetProperty("citations").EnumerateArray().ToList();
        Assert.NotEmpty(citations);
        Assert.All(citations, c => Assert.True(c.GetProperty("verified").GetBoolean(), c.ToString()));
        Assert.Contains(citations, c => c.GetProperty("text").GetString() == "src/a.cs:2");
    }
}
