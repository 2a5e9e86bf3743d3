using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Rlm.Tools.IntegrationTests.Cli;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// <c>rlm serve</c> answers the official OpenAI Node.js SDK (<c>openai</c> from npm, installed by <c>.ci/run</c> with
/// <c>npm ci</c> in <c>Server/js</c>): <c>node client.mjs</c> lists the models, asks once plain and once streamed with usage,
/// and names an unknown model, then prints one JSON object.
/// </summary>
public sealed class ServeOpenAIClientTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    private const string Purpose = "the test with the OpenAI Node.js SDK";

    private static string ClientDirectory => Path.Combine(RlmProcess.RepositoryRoot, "tests", "Rlm.Tools.IntegrationTests", "Server", "js");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task OpenAINodeClient_PlainAndStreamed_AnswerFromTheFile_WithUsage()
    {
        await NodeClients.EnsureInstalledAsync(ClientDirectory, "openai", Purpose);
        string facts = _temp.WriteText("facts.txt", "Notes\nThe launch code is TANGO-4471.\nThe capital of Zorbia is Quex.\n");
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", facts]);

        var (exitCode, stdout, stderr) = await RunNodeAsync("client.mjs", new Uri(serve.BaseAddress, "v1").ToString(), "What is the launch code?");
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.True(exitCode == 0, $"node client.mjs failed ({exitCode}):\n{stderr}\n{serve}");

        using var document = JsonDocument.Parse(stdout);
        var root = document.RootElement;
        Assert.Equal(["rlm", "rlm-offline"], root.GetProperty("models").EnumerateArray().Select(m => m.GetString()!));

        var plain = root.GetProperty("plain");
        Assert.Equal("chat.completion", plain.GetProperty("object").GetString());
        Assert.Equal("assistant", plain.GetProperty("role").GetString());
        Assert.Equal("stop", plain.GetProperty("finish_reason").GetString());
        Assert.Contains("TANGO-4471", plain.GetProperty("content").GetString(), StringComparison.Ordinal);
        AssertUsage(plain.GetProperty("usage"));

        var stream = root.GetProperty("stream");
        Assert.Equal("assistant", stream.GetProperty("role").GetString());
        Assert.Equal("stop", stream.GetProperty("finish_reason").GetString());
        Assert.Contains("TANGO-4471", stream.GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.True(stream.GetProperty("chunks").GetInt32() >= 4, "role, content, finish and usage chunks");
        AssertUsage(stream.GetProperty("usage"));

        var notFound = root.GetProperty("not_found");
        Assert.Equal(404, notFound.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", notFound.GetProperty("code").GetString());

        // One log line per query on stderr, none on stdout but the listening line.
        Assert.Equal(2, serve.StdErr.Split('\n').Count(l => l.Contains("query /v1/chat/completions", StringComparison.Ordinal)));
        Assert.Single(serve.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static void AssertUsage(JsonElement usage)
    {
        long prompt = usage.GetProperty("prompt_tokens").GetInt64();
        long completion = usage.GetProperty("completion_tokens").GetInt64();
        Assert.True(prompt > 0 && completion > 0, usage.ToString());
        Assert.Equal(prompt + completion, usage.GetProperty("total_tokens").GetInt64());
    }

    private static async Task<(int ExitCode, string StdOut, string StdErr)> RunNodeAsync(params string[] args)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            WorkingDirectory = ClientDirectory,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("OPENAI_API_KEY");
        info.Environment.Remove("OPENAI_BASE_URL");
        using var process = NodeClients.Start(info, "node", Purpose);
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
            Assert.Fail("node did not finish within 120 s");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
