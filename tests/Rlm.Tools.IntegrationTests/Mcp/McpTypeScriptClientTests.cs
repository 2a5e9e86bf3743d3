using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Rlm.Tools.IntegrationTests.Cli;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Mcp;

/// <summary>
/// <c>rlm mcp</c> answers the official TypeScript MCP client (<c>@modelcontextprotocol/sdk</c>, installed by <c>.ci/run</c>
/// with <c>npm ci</c> in <c>Mcp/ts</c>): <c>node client.mjs</c> spawns the server over stdio, lists the tools, calls
/// <c>list_documents</c> and <c>query</c> with a progress token, and prints one JSON object.
/// </summary>
public sealed class McpTypeScriptClientTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _corpus = McpServerTests.CreateCorpus();

    private const string Purpose = "the MCP test with the TypeScript client";

    private static string ClientDirectory => Path.Combine(RlmProcess.RepositoryRoot, "tests", "Rlm.Tools.IntegrationTests", "Mcp", "ts");

    public void Dispose() => _corpus.Dispose();

    [Fact]
    public async Task TypeScriptSdkClient_ListsTools_AndQueriesRealFiles()
    {
        await NodeClients.EnsureInstalledAsync(ClientDirectory, "@modelcontextprotocol/sdk", Purpose);

        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            WorkingDirectory = ClientDirectory,
        };
        foreach (string arg in (string[])["client.mjs", "What is the launch code?", RlmMcpClient.DotnetHost, RlmProcess.RlmDll, "mcp", "--dir", _corpus.Path, "--glob", "*.txt", "--glob", "*.md"])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("OPENAI_API_KEY");
        info.Environment.Remove("OPENAI_BASE_URL");
        using (var process = NodeClients.Start(info, "node", Purpose))
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("node client.mjs did not finish within 120 s");
            }

            string json = await stdout;
            output.WriteLine(json);
            output.WriteLine(await stderr);
            Assert.True(process.ExitCode == 0, $"node client.mjs failed ({process.ExitCode}):\n{await stderr}");

            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            Assert.Equal("rlm", root.GetProperty("server").GetProperty("name").GetString());
            var tools = root.GetProperty("tools").EnumerateArray().ToList();
            Assert.Equal(["list_documents", "query"], tools.Select(t => t.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
            var query = tools.Single(t => t.GetProperty("name").GetString() == "query");
            Assert.Equal("question", query.GetProperty("inputSchema").GetProperty("required")[0].GetString());

            string documents = root.GetProperty("documents").GetString()!;
            Assert.StartsWith("2 documents", documents, StringComparison.Ordinal); // --glob: the .cs file is not served
            Assert.Contains("notes/launch.txt", documents, StringComparison.Ordinal);
            Assert.DoesNotContain("app.cs", documents, StringComparison.Ordinal);

            var answer = root.GetProperty("query");
            Assert.False(answer.GetProperty("isError").GetBoolean());
            string text = answer.GetProperty("text").GetString()!;
            Assert.Contains("TANGO-4471", text, StringComparison.Ordinal);
            Assert.Contains("notes/launch.txt:3", text, StringComparison.Ordinal);

            var progress = root.GetProperty("progress").EnumerateArray().ToList();
            Assert.Contains(progress, p => p.GetProperty("message").GetString()!.StartsWith("iter 1", StringComparison.Ordinal));
            Assert.Contains(progress, p => p.GetProperty("message").GetString()!.StartsWith("sub-call", StringComparison.Ordinal));

            string serverStderr = root.GetProperty("stderr").GetString()!;
            Assert.Contains("offline model", serverStderr, StringComparison.Ordinal);
        }
    }
}
