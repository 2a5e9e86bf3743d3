using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;

namespace Rlm.Tools.IntegrationTests.Mcp;

/// <summary>
/// <c>rlm mcp --citations off|repair</c>: the policy reaches every <c>query</c> the server runs. The official C# MCP client
/// against the real <c>rlm</c>, its root model a loopback OpenAI-compatible server whose first answer cites a line that does
/// not exist and whose repair turn (when asked for one) cites the right line.
/// </summary>
public sealed class McpCitationPolicyTests(LoopbackOpenAIServer server) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private readonly TempDirectory _corpus = McpServerTests.CreateCorpus();

    public void Dispose() => _corpus.Dispose();

    [Theory]
    [InlineData("off", 1, null)]
    [InlineData("report", 1, "Citations verified: 0 of 1")]
    [InlineData("repair", 2, "Citations verified: 1 of 1")]
    public async Task Query_FollowsThePolicy(string policy, int requests, string? expected)
    {
        string? name = null;
        var scenario = server.NewScenario((context, request) =>
        {
            bool repair = request.Body.Contains("[citations]", StringComparison.Ordinal);
            return LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall($"TANGO-4471 ({name}:{(repair ? 3 : 7)})"))(context, request);
        });
        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _corpus.Path, "--base-url", scenario.Endpoint.ToString(), "--citations", policy]);
        string listing = McpServerTests.Text(await rlm.Client.CallToolAsync("list_documents"));
        name = listing.Split('\n').Select(l => l.Split('\t')[0]).Single(n => n.EndsWith("notes/launch.txt", StringComparison.Ordinal));

        var result = await rlm.Client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" });

        string text = McpServerTests.Text(result);
        Assert.NotEqual(true, result.IsError);
        Assert.Equal(requests, scenario.Requests.Count);
        if (expected is null)
        {
            Assert.DoesNotContain("Citations verified", text, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }
    }
}
