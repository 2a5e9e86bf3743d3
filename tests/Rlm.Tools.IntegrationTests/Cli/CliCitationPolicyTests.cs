using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>--citations off|report|repair</c> on real <c>rlm</c> processes: off checks nothing, repair gives the root model (a
/// loopback OpenAI-compatible server) its repair turn over the wire, and a bad value is a one-line usage error.
/// </summary>
public sealed class CliCitationPolicyTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private const string Question = "Where is the ModelDispatcher?";
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    [Fact]
    public async Task Off_NoCitationsInJson_NorInVerbose_WhileTheDefaultReportsThem()
    {
        _project.WriteText("src/a.cs", "int x = 1;\n// the ModelDispatcher sends requests\nreturn x;\n");

        var off = await RlmProcess.RunAsync([Question, "--dir", "src", "--offline", "--json", "-v", "--citations", "off"], workingDirectory: _project.Path);
        var byDefault = await RlmProcess.RunAsync([Question, "--dir", "src", "--offline", "--json", "-v"], workingDirectory: _project.Path);

        output.WriteLine(off.ToString());
        Assert.True(off.ExitCode == 0, off.ToString());
        Assert.True(byDefault.ExitCode == 0, byDefault.ToString());
        using var offJson = JsonDocument.Parse(off.StdOut);
        using var defaultJson = JsonDocument.Parse(byDefault.StdOut);
        Assert.Equal(offJson.RootElement.GetProperty("answer").GetString(), defaultJson.RootElement.GetProperty("answer").GetString());
        Assert.Contains("src/a.cs:2", offJson.RootElement.GetProperty("answer").GetString(), StringComparison.Ordinal); // it cites; nothing checks
        Assert.Equal(0, offJson.RootElement.GetProperty("citations").GetArrayLength());
        Assert.DoesNotContain("citations:", off.StdErr, StringComparison.Ordinal);
        Assert.NotEqual(0, defaultJson.RootElement.GetProperty("citations").GetArrayLength());
        Assert.Contains("citations: ", byDefault.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_Off_ChecksNothing_WhileTheDefaultReports()
    {
        _project.WriteText("src/a.cs", "int x = 1;\n// the ModelDispatcher sends requests\nreturn x;\n");

        var off = await RlmProcess.RunAsync(["chat", "--dir", "src", "--offline", "-v", "--citations", "off"], stdin: Question + "\n", workingDirectory: _project.Path);
        var byDefault = await RlmProcess.RunAsync(["chat", "--dir", "src", "--offline", "-v"], stdin: Question + "\n", workingDirectory: _project.Path);

        output.WriteLine(off.ToString());
        Assert.True(off.ExitCode == 0, off.ToString());
        Assert.True(byDefault.ExitCode == 0, byDefault.ToString());
        Assert.Contains("src/a.cs:2", off.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("citations: ", off.StdErr, StringComparison.Ordinal);
        Assert.Matches(@"citations: (\d+) of \1 verified", byDefault.StdErr);
    }

    [Fact]
    public async Task Repair_OverTheWire_TheRootGetsItsRepairTurn_AndTheFixedAnswerIsVerified()
    {
        _project.WriteText("src/a.cs", "int x = 1;\nreturn x;\n");
        string? told = null;
        var scenario = server.NewScenario(async (context, request) =>
        {
            // The repair turn is the request whose last message is the host's note on the failed citations.
            string last = Text(request.Json.GetProperty("messages").EnumerateArray().Last().GetProperty("content"));
            bool repair = last.Contains("[citations]", StringComparison.Ordinal);
            told ??= repair ? last : null;
            await LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall(repair
                ? "x is returned at src/a.cs:2 \"return x;\""
                : "x is returned at src/a.cs:1 \"return x;\""))(context, request);
        });

        var run = await RlmProcess.RunAsync(
            ["Where is x returned?", "--dir", "src", "--base-url", scenario.Endpoint.ToString(), "--json", "--citations", "repair"],
            workingDirectory: _project.Path);

        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, scenario.Requests.Count);
        Assert.NotNull(told);
        Assert.Contains("- src/a.cs:1 \"return x;\": the quote is not in line 1 of src/a.cs; it occurs at src/a.cs:2", told, StringComparison.Ordinal);
        JsonSchemaTests.AssertValidResult(run.StdOut, "rlm --json --citations repair");
        using var json = JsonDocument.Parse(run.StdOut);
        Assert.Equal("x is returned at src/a.cs:2 \"return x;\"", json.RootElement.GetProperty("answer").GetString());
        var citation = Assert.Single(json.RootElement.GetProperty("citations").EnumerateArray().ToList());
        Assert.True(citation.GetProperty("verified").GetBoolean(), citation.ToString());
        Assert.Equal(2, json.RootElement.GetProperty("statistics").GetProperty("iterations").GetInt32());

        // Control: under the default (report) the same server is asked once and the wrong citation is reported as it is.
        var report = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall("x is returned at src/a.cs:1 \"return x;\"")));
        var reported = await RlmProcess.RunAsync(["Where is x returned?", "--dir", "src", "--base-url", report.Endpoint.ToString(), "--json"], workingDirectory: _project.Path);
        Assert.True(reported.ExitCode == 0, reported.ToString());
        Assert.Single(report.Requests);
        using var reportedJson = JsonDocument.Parse(reported.StdOut);
        Assert.False(Assert.Single(reportedJson.RootElement.GetProperty("citations").EnumerateArray().ToList()).GetProperty("verified").GetBoolean());
    }

    /// <summary>A message's text: a string, or the text parts of an array of parts.</summary>
    private static string Text(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!,
        JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : "")),
        _ => string.Empty,
    };

    [Theory]
    [InlineData("", "bogus")]
    [InlineData("", "1")]
    [InlineData("", "report,repair")]
    [InlineData("chat", "bogus")]
    [InlineData("mcp", "bogus")]
    [InlineData("serve", "bogus")]
    public async Task BadValue_OneLineUsageError_ExitCode2(string command, string value)
    {
        string file = _project.WriteText("a.txt", "The launch code is TANGO-4471.\n");
        string[] args = command.Length == 0 ? [Question, "--file", file, "--offline", "--citations", value] : [command, "--file", file, "--offline", "--citations", value];

        var result = await RlmProcess.RunAsync(args);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, $"--citations must be off, report or repair (got '{value}')");
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("chat", "--help")]
    [InlineData("mcp", "--help")]
    [InlineData("serve", "--help")]
    public async Task Help_ListsTheOption_OnEveryCommand(params string[] args)
    {
        var result = await RlmProcess.RunAsync(args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("--citations <off|report|repair>", result.StdOut, StringComparison.Ordinal);
    }
}
