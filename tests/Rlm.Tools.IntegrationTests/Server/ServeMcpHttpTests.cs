using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Rlm.Tools.IntegrationTests.Cli;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// <c>rlm serve</c>'s <c>/mcp</c>: the official C# MCP client over streamable HTTP lists the same tools as <c>rlm mcp</c> and
/// queries the default corpus, with an API key; each call is its own HTTP request (stateless: any replica could answer).
/// </summary>
public sealed class ServeMcpHttpTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task McpClient_OverStreamableHttp_ListsTools_QueriesTheDefaultCorpus()
    {
        string facts = _temp.WriteText("facts.txt", "Notes\nThe launch code is TANGO-4471.\nThe capital of Zorbia is Quex.\n");
        string keys = _temp.WriteText("keys.txt", "mcp-key-123456789\n");
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", facts, "--api-key-file", keys]);

        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(serve.BaseAddress, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer mcp-key-123456789" },
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions { ClientInfo = new() { Name = "rlm-tests", Version = "1.0.0" } }, cancellationToken: timeout.Token);

        Assert.Equal("rlm", client.ServerInfo?.Name);
        var tools = await client.ListToolsAsync(cancellationToken: timeout.Token);
        Assert.Equal(["list_documents", "query"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));

        var listing = await client.CallToolAsync("list_documents", cancellationToken: timeout.Token);
        Assert.NotEqual(true, listing.IsError);
        Assert.Contains("facts.txt", Text(listing), StringComparison.Ordinal);

        var answer = await client.CallToolAsync("query", new Dictionary<string, object?> { ["question"] = "What is the launch code?" }, cancellationToken: timeout.Token);
        string text = Text(answer);
        output.WriteLine(text);
        Assert.NotEqual(true, answer.IsError);
        Assert.Contains("TANGO-4471", text, StringComparison.Ordinal);
        Assert.Contains("facts.txt:2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("mcp-key-123456789", serve.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutADefaultCorpus_McpIsA404Json()
    {
        await using var serve = await ServeProcess.StartAsync(["--offline"]);
        using var http = ServeTestSupport.Client(serve.BaseAddress);
        await ServeTestSupport.AssertErrorAsync(await http.PostAsync("mcp", ServeTestSupport.JsonBody("{}")), 404, "not_found");
    }

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));
}
