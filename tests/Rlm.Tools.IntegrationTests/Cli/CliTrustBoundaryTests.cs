using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// What crosses from outside to the user's terminal and files through the real <c>rlm</c> process: escape sequences from
/// documents and file names reach stderr inert, a key never goes over plain http:// to another machine, credentials in the
/// base URL or echoed by a provider are never shown, and tool names a model invents are recorded as <c>unknown</c>.
/// </summary>
public sealed class CliTrustBoundaryTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    private const string FakeKey = "sk-test-TRUST-4c3b2a1f0e9d-DO-NOT-PRINT";

    private static readonly char[] s_live = ['\u001b', '\u0007', '\u009b', '\u009d', '\u202e', '\u0008', '\r'];

    [Fact]
    public async Task EscapeSequences_InADocumentAndItsFileName_ReachStderrInert_WithVerbose()
    {
        using var dir = new TempDirectory();
        string docs = Path.Combine(dir.Path, "docs");
        dir.WriteText("docs/report.txt",
            "The launch code is TANGO-4471. \u001b[2J\u001b[31mred\u001b[0m \u001b]0;pwned title\u0007 \u001b]52;c;ZXZpbA==\u0007 \u009b2J \u202Etxt.exe\r overwritten\n" +
            "Another line about the launch code TANGO-4471 and \u0008\u0008 backspaces.\n");
        dir.WriteText("docs/launch\u001b[31m-code\u0007.txt", "The launch code is also listed here: TANGO-4471 \u001b[5m\n");

        var result = await RlmProcess.RunAsync(["what is the launch code?", "--dir", docs, "--offline", "-v"]);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        int live = result.StdErr.IndexOfAny(s_live);
        Assert.True(live < 0, $"raw control character U+{(live < 0 ? 0 : result.StdErr[live]):X4} on stderr:\n{result.StdErr}");
        Assert.Contains("^[[", result.StdErr, StringComparison.Ordinal); // the sequences are shown, not dropped
    }

    [Fact]
    public async Task McpServerLogs_NamingAFolderWithEscapes_AreInert()
    {
        using var dir = new TempDirectory();
        string docs = Path.Combine(dir.Path, "docs\u001b[31m\u001b]0;title\u0007");
        dir.WriteText(Path.Combine(Path.GetFileName(docs), "notes\u001b[5m.txt"), "The launch code is TANGO-4471.\n");

        // Standard input closed at once: the server starts, logs what it serves, and ends.
        var result = await RlmProcess.RunAsync(["mcp", "--dir", docs, "-v"]);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("serving", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("docs^[[31m^[]0;title^G", result.StdErr, StringComparison.Ordinal);
        Assert.True(result.StdErr.IndexOfAny(s_live) < 0, result.StdErr);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnswerOnATerminal_IsInert_RedirectedItIsByteForByte(bool json)
    {
        using var dir = new TempDirectory();
        string file = dir.WriteText("esc.txt", "The launch code is TANGO-4471 \u001b[31mred\u001b[0m \u009b2J \u202Erev\n");
        string[] args = json ? ["what is the launch code?", "--file", file, "--offline", "--json"] : ["what is the launch code?", "--file", file, "--offline"];

        // script(1) gives the command a pseudo-terminal for stdout and stderr; TERM=dumb keeps .NET's own terminal setup out.
        var tty = await RlmProcess.RunAsync(args, environment: new Dictionary<string, string?> { ["TERM"] = "dumb" },
            commandPrefix: ["/bin/bash", "-c", "exec script -qec \"$(printf '%q ' \"$@\")\" /dev/null", "bash"]);
        output.WriteLine(tty.ToString());
        Assert.True(tty.ExitCode == 0, tty.ToString());
        Assert.Contains("TANGO-4471", tty.StdOut, StringComparison.Ordinal);
        Assert.Contains(json ? "<U+202E>rev" : "^[[31mred^[[0m <U+009B>2J <U+202E>rev", tty.StdOut, StringComparison.Ordinal);
        int live = tty.StdOut.IndexOfAny(['\u001b', '\u009b', '\u202e']);
        Assert.True(live < 0, $"raw control character on the terminal:\n{tty.StdOut}");

        var piped = await RlmProcess.RunAsync(args);
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Contains(json ? "\\u001B[31mred" : "\u001b[31mred", piped.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKey_OverPlainHttpToAnotherHost_IsAUsageError_NamingTheOption()
    {
        foreach (string[] args in new[]
        {
            new[] { "what?", "--stdin", "--base-url", "http://example.invalid/v1?key=QUERYSECRET" },
            ["mcp", "--file", "notes.txt", "--base-url", "http://example.invalid/v1"],
            ["chat", "--file", "notes.txt", "--base-url", "http://example.invalid/v1"],
        })
        {
            using var dir = new TempDirectory();
            dir.WriteText("notes.txt", "some notes\n");
            var started = System.Diagnostics.Stopwatch.StartNew();
            var result = await RlmProcess.RunAsync(args, stdin: "some notes\n", workingDirectory: dir.Path,
                environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

            output.WriteLine(result.ToString());
            Assert.True(result.ExitCode == 2, result.ToString());
            var line = Assert.Single(result.StdErrLines);
            Assert.Contains("--allow-insecure-http", line, StringComparison.Ordinal);
            Assert.Contains("http://example.invalid/v1", line, StringComparison.Ordinal);
            Assert.DoesNotContain(FakeKey, result.StdOut + result.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("QUERYSECRET", result.StdOut + result.StdErr, StringComparison.Ordinal);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "a usage error is found before any request");
        }
    }

    [Fact]
    public async Task ApiKey_OverPlainHttpToLoopback_IsSent()
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall("TANGO-4471")));

        var result = await RlmProcess.RunAsync(["what is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString()],
            stdin: "The launch code is TANGO-4471.\n", environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("http://127.0.0.1:", scenario.Endpoint.ToString(), StringComparison.Ordinal);
        Assert.Equal($"Bearer {FakeKey}", scenario.SingleRequest.Authorization);
    }

    [Fact]
    public async Task BaseUrlWithQueryKeyAndUserInfo_NeverPrinted_WithVerbose()
    {
        const string QuerySecret = "QsEcReT-0123456789";
        const string Password = "uSeRpAsS-9876543210";
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall("The launch code is TANGO-4471.")));
        var url = new UriBuilder(scenario.Endpoint) { UserName = "me", Password = Password, Query = $"key={QuerySecret}" }.Uri;

        var result = await RlmProcess.RunAsync(["what is the launch code?", "--stdin", "--base-url", url.ToString(), "-v", "--json"],
            stdin: "The launch code is TANGO-4471.\n", environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        output.WriteLine(result.ToString());
        Assert.Contains($"@ {scenario.Endpoint.ToString().TrimEnd('/')}", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(QuerySecret, result.StdOut + result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.StdOut + result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeKey, result.StdOut + result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProviderEchoingGroqKeyAndSignedUrl_NeverInStderrJsonOrTrajectory()
    {
        const string Groq = "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";
        const string Signature = "sIgNaTuRe%2B0123456789abcdef";
        string echo = JsonSerializer.Serialize(new { error = new { message = $"key {Groq} is not valid for https://store.example/blob?sv=2024&sig={Signature}", type = "invalid_request_error" } });
        var scenario = server.NewScenario(async (context, request) =>
        {
            var json = request.Json;
            if (!json.TryGetProperty("tools", out _))
            {
                await LoopbackOpenAIServer.Json(echo, status: 400)(context, request); // the worker's request
                return;
            }

            bool sawResults = json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
            await LoopbackOpenAIServer.Json(sawResults ? CliEndpointTests.FinalCall("No worker answered.") : CliEndpointTests.SubLlmCalls(1))(context, request);
        });
        using var dir = new TempDirectory();
        string trajectory = Path.Combine(dir.Path, "t.jsonl");

        var result = await RlmProcess.RunAsync(
            ["what is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "-v", "--json", "--trajectory", trajectory, "--trajectory-sensitive"],
            stdin: "The launch code is TANGO-4471.\n");

        output.WriteLine(result.ToString());
        string written = await File.ReadAllTextAsync(trajectory);
        Assert.Contains("not valid for", written, StringComparison.Ordinal); // the error itself is kept, its secrets masked
        Assert.Contains("\"summary\"", written, StringComparison.Ordinal);
        Assert.Contains("not valid for", result.StdOut, StringComparison.Ordinal);
        foreach (string secret in new[] { Groq, Signature, Groq[..20] })
        {
            Assert.DoesNotContain(secret, result.StdOut + result.StdErr + written, StringComparison.Ordinal);
        }

        // The root model's next prompt carries the worker's error, masked too.
        Assert.All(scenario.Requests.Where(r => r.Body.Contains("\"tools\"", StringComparison.Ordinal)), r => Assert.DoesNotContain(Groq, r.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ToolNameTheModelInvents_IsRecordedAsUnknown_TheModelIsToldTheName()
    {
        const string Invented = "exfiltrate_TANGO4471_now";
        var scenario = server.NewScenario(async (context, request) =>
        {
            bool sawResults = request.Json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
            await LoopbackOpenAIServer.Json(sawResults ? CliEndpointTests.FinalCall("done") : Call(Invented))(context, request);
        });
        using var dir = new TempDirectory();
        string trajectory = Path.Combine(dir.Path, "t.jsonl");

        var result = await RlmProcess.RunAsync(
            ["what is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--json", "--trajectory", trajectory],
            stdin: "The launch code is TANGO-4471.\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        string written = await File.ReadAllTextAsync(trajectory);
        Assert.DoesNotContain(Invented, written, StringComparison.Ordinal);
        Assert.Contains("\"label\":\"unknown(…)\"", written, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(result.StdOut);
        var tools = json.RootElement.GetProperty("statistics").GetProperty("tool_calls");
        Assert.Equal(1, tools.GetProperty("unknown").GetInt32());
        Assert.False(tools.TryGetProperty(Invented, out _));

        // The model itself reads which name was wrong.
        var last = scenario.Requests.Last();
        Assert.Contains($"unknown tool '{Invented}'", last.Body, StringComparison.Ordinal);
    }

    private static string Call(string tool) =>
        "{\"id\":\"chatcmpl-x\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"server-model\"," +
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
        "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"" + tool + "\",\"arguments\":\"{\\\"q\\\":1}\"}}]}," +
        "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
}
