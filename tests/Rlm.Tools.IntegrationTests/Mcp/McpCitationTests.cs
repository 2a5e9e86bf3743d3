using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;

namespace Rlm.Tools.IntegrationTests.Mcp;

/// <summary>
/// <c>rlm mcp</c>'s <c>query</c> result says which citations of the answer the host verified: the official C# MCP client
/// against the real <c>rlm</c>, its root model a loopback OpenAI-compatible server.
/// </summary>
public sealed class McpCitationTests(LoopbackOpenAIServer server) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private readonly TempDirectory _corpus = McpServerTests.CreateCorpus();

    public void Dispose() => _corpus.Dispose();

    [Fact]
    public async Task Query_Result_CountsTheVerifiedCitations_AndNamesEachUnverifiedOneWithItsReason()
    {
        string? name = null;
        var scenario = server.NewScenario((context, request) =>
            LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall($"TANGO-4471 ({name}:3 \"The launch code is TANGO-4471.\"), fuel at {name}:7"))(context, request));
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path, "--base-url", scenario.Endpoint.ToString()]);
        string listing = McpServerTests.Text(await rlm.Client.CallToolAsync("list_documents"));
        name = listing.Split('\n').Select(l => l.Split('\t')[0]).Single(n => n.EndsWith("notes/launch.txt", StringComparison.Ordinal));

        var result = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });

        string text = McpServerTests.Text(result);
        Assert.NotEqual(true, result.IsError);
        Assert.Contains("Citations verified: 1 of 2", text, StringComparison.Ordinal);
        Assert.Contains($"- unverified {name}:7: {name} has 4 lines; line 7 does not exist", text, StringComparison.Ordinal);
    }
}
