using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Rlm.Tools.IntegrationTests.OpenAI;
using Rlm.Tools.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// A run's result is never thrown away, tried as a user would with a real <c>rlm</c> process against a loopback
/// OpenAI-compatible server: output paths checked before anything is paid, a failed or canceled run still gives its JSON
/// and trajectory, a server that ignores <c>tool_choice: none</c>, a budget stop without an answer, SIGTERM and SIGINT.
/// </summary>
public sealed class CliResultsKeptTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    private const string Context = "The launch code is TANGO-4471.\n";

    [Theory]
    [InlineData("missing-dir/x.jsonl", "does not exist")]
    [InlineData("a-file.txt/x.jsonl", "is not a directory")]
    [InlineData(".", "is a directory")]
    public async Task TrajectoryPathThatCannotBeWritten_IsRefusedBeforeTheRun_NothingSent(string relative, string expected)
    {
        using var dir = new TempDirectory();
        string input = dir.WriteText("a-file.txt", Context);
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall("TANGO-4471")));

        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(),
            "--trajectory", Path.Combine(dir.Path, relative)]);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, expected);
        Assert.Contains("cannot write the trajectory", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(scenario.Requests); // nothing paid
    }

    [Fact]
    public async Task TrajectoryPath_Writable_LeavesNoFileBehindWhenTheRunFailsEarly()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "t.jsonl");

        // A usage error after the check (no input given): the probe file of the check is gone.
        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", Path.Combine(dir.Path, "missing.txt"), "--offline", "--trajectory", path]);

        Assert.Equal(2, result.ExitCode);
        Assert.False(File.Exists(path), result.ToString());
    }

    [Fact]
    public async Task TrajectoryWriteThatFailsAfterTheRun_AnswerStaysOnStdout_WarningOnStderr()
    {
        using var dir = new TempDirectory();
        string input = dir.WriteText("in.txt", Context);
        string folder = Path.Combine(dir.Path, "out");
        Directory.CreateDirectory(folder);
        var scenario = server.NewScenario(async (context, request) =>
        {
            Directory.Delete(folder, recursive: true); // the folder goes away while the model answers
            await LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall("TANGO-4471"))(context, request);
        });

        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(),
            "--trajectory", Path.Combine(folder, "t.jsonl")]);

        output.WriteLine(result.ToString());
        Assert.Equal("TANGO-4471", result.StdOut.Trim());
        var warning = Assert.Single(result.StdErrLines);
        Assert.StartsWith("rlm: warning: cannot write the trajectory to ", warning, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task EndpointFails_Json_StillPrintsTheObject_AndWritesThePartialTrajectory()
    {
        using var dir = new TempDirectory();
        string input = dir.WriteText("in.txt", Context);
        string trajectory = Path.Combine(dir.Path, "t.jsonl");
        int n = 0;
        var scenario = server.NewScenario((context, request) => Interlocked.Increment(ref n) == 1
            ? LoopbackOpenAIServer.Json(ToolCall("grep", new { pattern = "launch" }))(context, request)
            : LoopbackOpenAIServer.Json("""{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error"}}""", 401)(context, request));

        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(),
            "--json", "--trajectory", trajectory]);

        output.WriteLine(result.ToString());
        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.StdOut);
        var root = json.RootElement;
        Assert.Equal("model_failure", root.GetProperty("stop_reason").GetString());
        Assert.False(root.GetProperty("is_final").GetBoolean());
        Assert.Equal("", root.GetProperty("answer").GetString());
        Assert.Contains("401", root.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("401", root.GetProperty("stop_message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, root.GetProperty("statistics").GetProperty("model_calls").GetInt32());
        Assert.Equal(1, root.GetProperty("statistics").GetProperty("tool_calls_total").GetInt32());
        Assert.True(root.GetProperty("usage").GetProperty("input_tokens").GetInt64() > 0);
        Assert.Contains("endpoint failed", Assert.Single(result.StdErrLines), StringComparison.Ordinal);

        JsonSchemaTests.AssertValidResult(result.StdOut, "rlm --json of a failed run");
        JsonSchemaTests.AssertValidTrajectory(await File.ReadAllTextAsync(trajectory), "the trajectory of a failed run");
        string[] lines = await File.ReadAllLinesAsync(trajectory);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("model_failure", first.RootElement.GetProperty("stop_reason").GetString());
        Assert.True(lines.Length > 2, string.Join('\n', lines));
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task EndpointFails_WithoutJson_StillWritesThePartialTrajectory()
    {
        using var dir = new TempDirectory();
        string input = dir.WriteText("in.txt", Context);
        string trajectory = Path.Combine(dir.Path, "t.jsonl");
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json("""{"error":{"message":"no such model","type":"invalid_request_error"}}""", 404));

        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(), "--trajectory", trajectory]);

        output.WriteLine(result.ToString());
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Contains("HTTP 404", Assert.Single(result.StdErrLines), StringComparison.Ordinal);
        var run = RlmTrajectoryReader.Read(new StringReader(await File.ReadAllTextAsync(trajectory))).Run;
        Assert.Equal("model_failure", run.GetProperty("stop_reason").GetString());
        Assert.Contains("HTTP 404", run.GetProperty("stop_message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task View_OutputInAMissingDirectory_OneLineSaysSo()
    {
        using var dir = new TempDirectory();
        string trajectory = Path.Combine(dir.Path, "t.jsonl");
        Assert.Equal(0, (await RlmProcess.RunAsync(["What is the launch code?", "--file", dir.WriteText("in.txt", Context), "--offline", "--trajectory", trajectory])).ExitCode);

        var result = await RlmProcess.RunAsync(["view", trajectory, "-o", Path.Combine(dir.Path, "missing", "out.html")]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("does not exist", Assert.Single(result.StdErrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerThatIgnoresToolChoiceNone_IterationLimit_AnswerFromItsFinalCall_NoRetries()
    {
        using var dir = new TempDirectory();
        string input = dir.WriteText("in.txt", Context);
        var scenario = IgnoresToolChoice(lastReply: ToolCall("final", new { answer = "TANGO-4471" }));
        var watch = Stopwatch.StartNew();

        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(),
            "--max-iterations", "2", "--json"]);

        output.WriteLine(result.ToString());
        Assert.Equal(1, result.ExitCode); // no final answer: the limit ended the run
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal("iteration_limit", json.RootElement.GetProperty("stop_reason").GetString());
        Assert.Equal("TANGO-4471", json.RootElement.GetProperty("answer").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("statistics").GetProperty("model_retries").GetInt32());
        Assert.Equal(3, scenario.Requests.Count); // two iterations, one last call: no retry storm
        Assert.Equal("none", scenario.Requests[^1].Json.GetProperty("tool_choice").GetString());
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task ServerThatIgnoresToolChoiceNone_NoTextEver_EmptyStdout_ReasonOnStderr()
    {
        using var dir = new TempDirectory();
        string input = dir.WriteText("in.txt", Context);
        var scenario = IgnoresToolChoice(lastReply: ToolCall("grep", new { pattern = "code" }));

        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(), "--max-iterations", "2"]);

        output.WriteLine(result.ToString());
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        var note = Assert.Single(result.StdErrLines);
        Assert.Contains("without an answer", note, StringComparison.Ordinal);
        Assert.Contains("iterations", note, StringComparison.Ordinal);
        Assert.Equal(3, scenario.Requests.Count);
    }

    [Fact]
    public async Task Library_OverTheLoopbackServer_ThatIgnoresToolChoiceNone_EndsWithAResult()
    {
        var scenario = IgnoresToolChoice(lastReply: ToolCall("final", new { answer = "TANGO-4471" }));
        using var client = OpenAIChatClientFactory.Create("server-model", endpoint: scenario.Endpoint);
        var rlm = new RecursiveLanguageModel(client, options: new RlmOptions { MaxIterations = 2 });

        var result = await rlm.QueryAsync("What is the launch code?", Context);

        Assert.Equal(RlmStopReason.IterationLimit, result.StopReason);
        Assert.Equal("TANGO-4471", result.Answer);
        Assert.Equal(0, result.Statistics.ModelRetries);
        Assert.Equal(3, scenario.Requests.Count);
    }

    [Fact]
    public async Task BudgetStop_WithoutAnAnswer_PrintsNothingOnStdout_TheReasonOnStderr()
    {
        using var dir = new TempDirectory();
        string input = dir.WriteText("in.txt", Context);
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(ToolCall("grep", new { pattern = "launch" }, promptTokens: 1_000, completionTokens: 100)));

        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(), "--max-tokens", "2500"]);

        output.WriteLine(result.ToString());
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        var note = Assert.Single(result.StdErrLines);
        Assert.StartsWith("rlm: stopped: token budget of 2,500 tokens spent", note, StringComparison.Ordinal);
        Assert.Contains("no answer", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnpricedModel_Json_CostNoteSaysWhyCostIsNull()
    {
        using var dir = new TempDirectory();
        string input = dir.WriteText("in.txt", Context);
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall("TANGO-4471")));

        var result = await RlmProcess.RunAsync(["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(), "--model", "llama-local", "--json"]);

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("cost_usd").ValueKind);
        JsonSchemaTests.AssertValidResult(result.StdOut, "rlm --json with an unpriced model");
        string note = json.RootElement.GetProperty("cost_note").GetString()!;
        Assert.Contains("'server-model'", note, StringComparison.Ordinal); // the id the server reported
        Assert.Contains("RlmOptions.Prices", note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task Signal_DuringTheRun_CancelsIt_ExitCode128PlusSignal_PartialJsonAndTrajectory(string signal, int exitCode)
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("SKIPPED: sending signals to a child process needs a POSIX system.");
            return;
        }

        using var dir = new TempDirectory();
        string input = dir.WriteText("in.txt", Context);
        string trajectory = Path.Combine(dir.Path, "t.jsonl");
        int n = 0;
        var scenario = server.NewScenario(async (context, request) =>
        {
            if (Interlocked.Increment(ref n) == 1)
            {
                await LoopbackOpenAIServer.Json(ToolCall("grep", new { pattern = "launch" }))(context, request);
                return;
            }

            // The second request hangs until the client goes away.
            await Task.Delay(Timeout.Infinite, CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.ShuttingDown).Token)
                .ContinueWith(_ => { }, TaskScheduler.Default);
        });
        var watch = new Stopwatch();

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--file", input, "--base-url", scenario.Endpoint.ToString(), "--json", "--trajectory", trajectory],
            whileStdinOpen: async process =>
            {
                while (Volatile.Read(ref n) < 2)
                {
                    await Task.Delay(50);
                }

                watch.Start();
                using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                watch.Stop();
            });

        output.WriteLine(result.ToString());
        output.WriteLine($"exited {watch.Elapsed.TotalSeconds:0.00} s after the signal");
        Assert.Equal(exitCode, result.ExitCode);
        Assert.True(watch.Elapsed < global::Rlm.Tools.Cli.TerminationSignals.Grace, $"took {watch.Elapsed}"); // stopped by itself, before the forced exit
        Assert.Equal("rlm: canceled.", Assert.Single(result.StdErrLines));
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal("canceled", json.RootElement.GetProperty("stop_reason").GetString());
        Assert.Equal("canceled", json.RootElement.GetProperty("error").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("statistics").GetProperty("tool_calls_total").GetInt32());
        using var first = JsonDocument.Parse((await File.ReadAllLinesAsync(trajectory))[0]);
        Assert.Equal("canceled", first.RootElement.GetProperty("stop_reason").GetString());
        JsonSchemaTests.AssertValidResult(result.StdOut, "rlm --json of a canceled run");
    }

    /// <summary>A server that ignores <c>tool_choice</c>: a grep call for every request, <paramref name="lastReply"/> for one with tool_choice "none".</summary>
    private Scenario IgnoresToolChoice(string lastReply) => server.NewScenario((context, request) =>
        LoopbackOpenAIServer.Json(request.Json.TryGetProperty("tool_choice", out var choice) && choice.ValueKind == JsonValueKind.String && choice.GetString() == "none"
            ? lastReply
            : ToolCall("grep", new { pattern = "launch" }))(context, request));

    /// <summary>A chat completion whose reply is one tool call.</summary>
    private static string ToolCall(string name, object arguments, int promptTokens = 30, int completionTokens = 12)
    {
        string encoded = JsonSerializer.Serialize(JsonSerializer.Serialize(arguments));
        return "{\"id\":\"chatcmpl-" + name + "\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"server-model\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
               "{\"id\":\"call_" + Guid.NewGuid().ToString("N")[..8] + "\",\"type\":\"function\",\"function\":{\"name\":\"" + name + "\",\"arguments\":" + encoded + "}}]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":" + completionTokens +
               ",\"total_tokens\":" + (promptTokens + completionTokens) + "}}";
    }
}
