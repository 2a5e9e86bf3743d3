using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// Which model <c>rlm</c> uses and how it fails: the offline default (said on stderr), an OpenAI-compatible endpoint on
/// loopback (a real HTTP server), endpoint errors as one line with exit code 1, and the API key never printed.
/// </summary>
public sealed class CliEndpointTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    private const string FakeKey = "sk-test-CLI-9f8e7d6c5b4a-DO-NOT-PRINT";

    [Fact]
    public async Task NoEndpointConfigured_UsesOfflineModel_AndSaysSoOnStderr()
    {
        var result = await RlmProcess.RunAsync(["What is the launch code?", "--stdin"], stdin: "The launch code is TANGO-4471.\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        var note = Assert.Single(result.StdErrLines);
        Assert.Contains("no endpoint configured", note, StringComparison.Ordinal);
        Assert.Contains("offline model", note, StringComparison.Ordinal);
        Assert.StartsWith(OfflineChatClient.AnswerPrefix, result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OfflineOption_WinsOverAConfiguredEndpoint_AndNeverSendsARequest()
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("from the server")));

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--offline", "--base-url", scenario.Endpoint.ToString()],
            stdin: "The launch code is TANGO-4471.\n",
            environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("--offline", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        Assert.Empty(scenario.Requests);
        Assert.DoesNotContain(FakeKey, result.StdOut + result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosedLoopbackPort_EndpointError_OneLine_ExitCode1_KeyNeverPrinted()
    {
        string url = $"http://127.0.0.1:{ClosedPort()}/v1";

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", url, "-v"],
            stdin: "The launch code is TANGO-4471.\n",
            environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey },
            timeout: TimeSpan.FromSeconds(90));

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Empty(result.StdOut);
        var errors = result.StdErrLines.Where(l => l.StartsWith("rlm: ", StringComparison.Ordinal)).ToList();
        var error = Assert.Single(errors);
        Assert.Contains("endpoint failed", error, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", error, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeKey, result.StdOut + result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("offline", result.StdErr, StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Http401_OneLineWithStatusAndServiceMessage_ExitCode1_KeySentButNeverPrinted()
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(
            """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}""", status: 401));

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--json"],
            stdin: "The launch code is TANGO-4471.\n",
            environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        using (var json = JsonDocument.Parse(result.StdOut)) // --json: the failed run is still one JSON object
        {
            Assert.Equal("model_failure", json.RootElement.GetProperty("stop_reason").GetString());
            Assert.Contains("HTTP 401", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        var line = Assert.Single(result.StdErrLines);
        Assert.Contains("HTTP 401", line, StringComparison.Ordinal);
        Assert.Contains("Incorrect API key provided.", line, StringComparison.Ordinal);
        Assert.Equal($"Bearer {FakeKey}", scenario.Requests[0].Authorization);
        Assert.DoesNotContain(FakeKey, result.StdOut + result.StdErr, StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Endpoint_ModelCallsFinal_AnswerOnStdout_ExitCode0_ModelIdFromOption()
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(FinalCall("The launch code is TANGO-4471 (from the server).")));

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--model", "my-root-model", "-v"],
            stdin: "The launch code is TANGO-4471.\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("The launch code is TANGO-4471 (from the server).", result.StdOut.TrimEnd());
        var request = Assert.Single(scenario.Requests);
        Assert.Equal("my-root-model", request.Json.GetProperty("model").GetString());
        Assert.Contains(request.Json.GetProperty("tools").EnumerateArray(), t => t.GetProperty("function").GetProperty("name").GetString() == "final");
        Assert.Contains("Root model: openai/my-root-model @ ", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("Worker model: openai/my-root-model", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("offline", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoint_ModelNeverCallsFinal_PrintsItsTextAnyway_NoteOnStderr_ExitCode1()
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("I think it is TANGO-4471.")));

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString()],
            stdin: "The launch code is TANGO-4471.\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("I think it is TANGO-4471.", result.StdOut.TrimEnd());
        var note = Assert.Single(result.StdErrLines);
        Assert.Contains("no final answer", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProviderEchoingTheKey_WorkerFails_KeyNeverInPromptsOrOutput_AllSubCallsFailed_ExitCode1()
    {
        // The worker's 401 echoes the Authorization header, as some providers and proxies do.
        string echo = $$$"""{"error":{"message":"Invalid credentials: Authorization: Bearer {{{FakeKey}}} (key {{{FakeKey}}})","type":"invalid_request_error"}}""";
        var scenario = server.NewScenario(async (context, request) =>
        {
            var json = request.Json;
            bool root = json.TryGetProperty("tools", out _);
            if (!root)
            {
                await LoopbackOpenAIServer.Json(echo, status: 401)(context, request);
                return;
            }

            bool sawResults = json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
            await LoopbackOpenAIServer.Json(sawResults ? FinalCall("Best guess without workers.") : SubLlmCalls(2))(context, request);
        });

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "-v"],
            stdin: "The launch code is TANGO-4471.\n",
            environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("Best guess without workers.", result.StdOut.TrimEnd());
        Assert.Contains("every sub-call failed (2 of 2)", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("refused (not retried) (HTTP 401)", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, scenario.Requests.Count(r => !r.Body.Contains("\"tools\"", StringComparison.Ordinal))); // 401: no retries

        // The root's next prompt carries the workers' errors, masked; the key travels only in the Authorization header.
        var lastRoot = scenario.Requests.Last(r => r.Body.Contains("\"tools\"", StringComparison.Ordinal));
        Assert.Contains("Invalid credentials", lastRoot.Body, StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", lastRoot.Body, StringComparison.Ordinal);
        Assert.All(scenario.Requests, r => Assert.DoesNotContain(FakeKey, r.Body, StringComparison.Ordinal));
        Assert.DoesNotContain(FakeKey, result.StdOut + result.StdErr, StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task ProviderEchoingTheKey_RootFails_OneRedactedLine_ExitCode1()
    {
        string echo = $$$"""{"error":{"message":"Forbidden for api-key {{{FakeKey}}}","type":"permission_error"}}""";
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(echo, status: 403));

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--json", "-v"],
            stdin: "The launch code is TANGO-4471.\n",
            environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.StdErrLines, l => l.StartsWith("rlm: ", StringComparison.Ordinal));
        Assert.Contains("HTTP 403", line, StringComparison.Ordinal);
        Assert.Contains("Forbidden", line, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeKey, result.StdOut + result.StdErr, StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Verbose_LiveProgressFromTheRunsEvents_ShowsIterationsRetriesParallelCallsSubCallsAndTheEnd()
    {
        // The root's first request gets a 503 (retried after 10 ms), then it sends two sub_llm calls in one reply.
        int rootRequests = 0;
        var scenario = server.NewScenario(async (context, request) =>
        {
            var json = request.Json;
            if (!json.TryGetProperty("tools", out _))
            {
                await LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("the part says TANGO"))(context, request);
                return;
            }

            if (Interlocked.Increment(ref rootRequests) == 1)
            {
                await LoopbackOpenAIServer.Json("""{"error":{"message":"overloaded, try again","type":"server_error"}}""", status: 503,
                    headers: new Dictionary<string, string> { ["retry-after-ms"] = "10" })(context, request);
                return;
            }

            bool sawResults = json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
            await LoopbackOpenAIServer.Json(sawResults ? FinalCall("TANGO-4471") : SubLlmCalls(2))(context, request);
        });

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--model", "root-m", "--worker-model", "worker-m", "-v"],
            stdin: "The launch code is TANGO-4471.\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("TANGO-4471", result.StdOut.TrimEnd());
        string[] expected =
        [
            @"^\[\s*\d+\.\d\ds\] iter 1: calling root-m \(root\)\.\.\.$",
            @"^\[\s*\d+\.\d\ds\]   ! root request server error \(HTTP 503\); retry 1 of \d+ in 0\.0 s: .*overloaded, try again",
            @"^\[\s*\d+\.\d\ds\]   2 calls in parallel: sub_llm\(\.\.\.\) x2$",
            @"^\[\s*\d+\.\d\ds\]   sub_llm\(",
            @"^\[\s*\d+\.\d\ds\]   -> sub-call started \(depth=1, 10 chars, leaf\) \[worker-m\]$",
            @"^\[\s*\d+\.\d\ds\]   <- sub-call done \(depth=1\): the part says TANGO$",
            @"^\[\s*\d+\.\d\ds\] iter 2: calling root-m \(root\)\.\.\.$",
            @"^\[\s*\d+\.\d\ds\] query done at depth 0 after 2 iterations \(final\)$",
        ];
        int last = -1;
        foreach (string pattern in expected)
        {
            int at = result.StdErrLines.ToList().FindIndex(last + 1, l => System.Text.RegularExpressions.Regex.IsMatch(l, pattern));
            Assert.True(at > last, $"no line matching {pattern} after line {last}:\n{result.StdErr}");
            last = pattern.Contains("sub-call", StringComparison.Ordinal) || pattern.Contains("sub_llm", StringComparison.Ordinal) ? last : at; // parallel lines interleave
        }

        Assert.Equal(2, result.StdErrLines.Count(l => l.Contains("-> sub-call started", StringComparison.Ordinal)));
        Assert.Equal(2, result.StdErrLines.Count(l => l.Contains("<- sub-call done", StringComparison.Ordinal)));
    }

    internal static string SubLlmCalls(int count)
    {
        var calls = Enumerable.Range(0, count).Select(i =>
            "{\"id\":\"call_s" + i + "\",\"type\":\"function\",\"function\":{\"name\":\"sub_llm\",\"arguments\":" +
            JsonSerializer.Serialize(JsonSerializer.Serialize(new { query = $"part {i}", start = 0, end = 10 })) + "}}");
        return "{\"id\":\"chatcmpl-sub\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"server-model\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" + string.Join(",", calls) + "]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }

    internal static string FinalCall(string answer)
    {
        string arguments = JsonSerializer.Serialize(JsonSerializer.Serialize(new { answer }));
        return "{\"id\":\"chatcmpl-final\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"server-model\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
               "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"final\",\"arguments\":" + arguments + "}}]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
