using System.Text.RegularExpressions;
using ModelContextProtocol.Protocol;
using Rlm.Tools.IntegrationTests.Cli;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Mcp;

/// <summary>
/// A real <c>rlm mcp</c> process and the official MCP client: a missing or wrong argument is a tool error naming it, stderr
/// holds log lines only (never a stack trace), and the default log level writes one line per query.
/// </summary>
public sealed partial class McpArgumentErrorTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _corpus = McpServerTests.CreateCorpus();

    public void Dispose() => _corpus.Dispose();

    [Fact]
    public async Task MissingOrInvalidArguments_AreToolErrorsNamingTheArgument_AndStderrHoldsOnlyLogLines()
    {
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path]);

        var missing = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?>());
        var nullQuestion = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = null });
        var number = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = 42 });
        var badFilter = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?", ["documents"] = new[] { "a" } });
        var answered = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });

        foreach (var result in new[] { missing, nullQuestion, number, badFilter })
        {
            output.WriteLine(McpServerTests.Text(result));
        }

        output.WriteLine("--- stderr ---\n" + rlm.StdErr);
        Assert.True(missing.IsError);
        Assert.Equal("The argument 'question' is required: The question to answer over the corpus, self-contained.", McpServerTests.Text(missing));
        Assert.True(nullQuestion.IsError);
        Assert.Equal(McpServerTests.Text(missing), McpServerTests.Text(nullQuestion));
        Assert.True(number.IsError);
        Assert.Equal("The argument 'question' must be a string, not a number.", McpServerTests.Text(number));
        Assert.True(badFilter.IsError);
        Assert.Equal("The argument 'documents' must be a string, not an array.", McpServerTests.Text(badFilter));
        Assert.NotEqual(true, answered.IsError);
        Assert.Contains("TANGO-4471", McpServerTests.Text(answered), StringComparison.Ordinal);

        Assert.DoesNotContain("An error occurred", rlm.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", rlm.StdErr, StringComparison.Ordinal);
        Assert.All(rlm.StdErrLines, line => Assert.Matches(LogLine(), line)); // log lines, and rlm's own one-line notices
    }

    [Fact]
    public async Task DefaultLogLevel_WritesOneLinePerQuery_VerboseWritesMore()
    {
        await using var quiet = await RlmMcpClient.StartAsync(["--dir", _corpus.Path]);
        await using var verbose = await RlmMcpClient.StartAsync(["--dir", _corpus.Path, "--verbose"]);
        int before = quiet.StdErrLines.Count;

        await quiet.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });
        await quiet.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "Which file is the README?" });
        await quiet.Client.CallToolAsync("query", new Dictionary<string, object?>());
        await verbose.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });
        await Task.Delay(500); // stderr lines arrive on their own reader

        var perQuery = quiet.StdErrLines.Skip(before).ToList();
        output.WriteLine(string.Join('\n', perQuery) + "\n--- verbose ---\n" + verbose.StdErr);
        Assert.Equal(3, perQuery.Count);
        Assert.Matches(@"info: .*query 1 answered", perQuery[0]);
        Assert.Matches(@"info: .*query 2 answered", perQuery[1]);
        Assert.Matches(@"warn: .*query 3 failed .*'question'", perQuery[2]);
        Assert.True(verbose.StdErrLines.Count(l => l.Contains("dbug:", StringComparison.Ordinal)) >= 2, verbose.StdErr);
    }

    [Fact]
    public async Task Help_SaysOneLogLinePerQuery()
    {
        var result = await RlmProcess.RunAsync(["mcp", "--help"]);

        Assert.Contains("one line per query", result.StdOut, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(\d\d:\d\d:\d\d (trce|dbug|info|warn|fail|crit): \S+|rlm: \S)")]
    private static partial Regex LogLine();
}
