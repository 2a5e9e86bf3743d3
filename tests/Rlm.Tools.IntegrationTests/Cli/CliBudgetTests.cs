using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// The run budgets on the command line (<c>--max-tokens</c>, <c>--max-cost</c>, <c>--max-time</c>): a real <c>rlm</c> process
/// against a loopback OpenAI-compatible server whose scripted replies report usage, stopped by the budget before the
/// script runs out; bad values and unpriced models are one-line usage errors.
/// </summary>
public sealed class CliBudgetTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    private const string Context = "The launch code is TANGO-4471.\n";

    [Fact]
    public async Task MaxTokens_StopsARunThatWouldGoOn_BestAnswer_StopReasonInJson_NoteOnStderr_ExitCode1()
    {
        // Ten root turns of one grep call each (1,100 tokens per reply), then final: without a budget, 11 requests.
        var script = Enumerable.Range(0, 10).Select(i => GrepCall(i, "server-model", promptTokens: 1_000, completionTokens: 100))
            .Append(CliEndpointTests.FinalCall("TANGO-4471")).ToList();
        var scenario = Scripted(script);

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--max-tokens", "2500", "--json"],
            stdin: Context);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal("token_budget", json.RootElement.GetProperty("stop_reason").GetString());
        Assert.False(json.RootElement.GetProperty("is_final").GetBoolean());
        Assert.InRange(scenario.Requests.Count, 1, script.Count - 1);
        long used = json.RootElement.GetProperty("usage").GetProperty("input_tokens").GetInt64() + json.RootElement.GetProperty("usage").GetProperty("output_tokens").GetInt64();
        Assert.True(used >= 2_500, result.ToString());
        Assert.Equal(1_100 * scenario.Requests.Count, used); // every request the server answered is counted, and nothing else
        var note = Assert.Single(result.StdErrLines);
        Assert.StartsWith("rlm: stopped: token budget of 2,500 tokens spent (", note, StringComparison.Ordinal);
        Assert.Contains("no answer to print", note, StringComparison.Ordinal); // the root only ever called tools
        Assert.Equal("", json.RootElement.GetProperty("answer").GetString());
        Assert.Contains("token budget", json.RootElement.GetProperty("stop_message").GetString(), StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task MaxTokens_Verbose_ShowsTheBudgetAndTheStopReason()
    {
        var script = Enumerable.Range(0, 10).Select(i => GrepCall(i, "server-model", promptTokens: 1_000, completionTokens: 100)).ToList();
        var scenario = Scripted(script);

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--max-tokens", "2500", "-v"],
            stdin: Context);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("Budgets: 2,500 tokens", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("Stop: token_budget", result.StdErr, StringComparison.Ordinal);
        Assert.InRange(scenario.Requests.Count, 1, script.Count - 1);
    }

    [Fact]
    public async Task MaxCost_PricedModel_StopsTheRun_CostBudgetInJson()
    {
        // gpt-4.1 costs $2 per 1M input and $8 per 1M output tokens: each reply (100,000 in, 1,000 out) costs $0.208, as the
        // server reports it under the dated id a real endpoint returns.
        var script = Enumerable.Range(0, 10).Select(i => GrepCall(i, "gpt-4.1-2025-04-14", promptTokens: 100_000, completionTokens: 1_000))
            .Append(CliEndpointTests.FinalCall("TANGO-4471")).ToList();
        var scenario = Scripted(script);

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--model", "gpt-4.1", "--max-cost", "0.50", "--json"],
            stdin: Context);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal("cost_budget", json.RootElement.GetProperty("stop_reason").GetString());
        decimal cost = json.RootElement.GetProperty("cost_usd").GetDecimal();
        Assert.True(cost >= 0.50m, result.ToString());
        Assert.Equal(0.208m * scenario.Requests.Count, cost);
        Assert.InRange(scenario.Requests.Count, 1, script.Count - 1);
        Assert.All(scenario.Requests, r => Assert.Equal("gpt-4.1", r.Json.GetProperty("model").GetString()));
        var note = Assert.Single(result.StdErrLines);
        Assert.StartsWith("rlm: stopped: cost budget of $0.50 spent ($", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxCost_EndpointReportsAnUnpricedModelId_SaysItsTokensWereNotCounted()
    {
        var scenario = Scripted([CliEndpointTests.FinalCall("TANGO-4471")]); // reports "model":"server-model"

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--model", "gpt-4.1", "--max-cost", "1"],
            stdin: Context);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("TANGO-4471", result.StdOut.TrimEnd());
        var note = Assert.Single(result.StdErrLines);
        Assert.Contains("'server-model' with no known price", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxTime_StopsARunWhoseRepliesAreSlow_TimeBudgetInJson()
    {
        // Each reply takes 400 ms; a 1 s budget is spent after a few of the ten scripted turns.
        var script = Enumerable.Range(0, 10).Select(i => GrepCall(i, "server-model", promptTokens: 10, completionTokens: 10))
            .Append(CliEndpointTests.FinalCall("TANGO-4471")).ToList();
        var scenario = Scripted(script, delay: TimeSpan.FromMilliseconds(400));

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--max-time", "1", "--json"],
            stdin: Context);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal("time_budget", json.RootElement.GetProperty("stop_reason").GetString());
        Assert.InRange(scenario.Requests.Count, 1, script.Count - 1);
        Assert.StartsWith("rlm: stopped: time budget of 1 s spent (", Assert.Single(result.StdErrLines), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("my-model", null, "the model 'my-model' has none")]
    [InlineData("gpt-4.1", "my-worker", "the worker model 'my-worker' has none")]
    [InlineData("my-root", "gpt-4.1-mini", "the root model 'my-root' has none")]
    public async Task MaxCost_ModelWithoutAPrice_IsAUsageError_NothingSent(string model, string? workerModel, string expected)
    {
        var scenario = Scripted([CliEndpointTests.FinalCall("TANGO-4471")]);
        string[] worker = workerModel is null ? [] : ["--worker-model", workerModel];

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin", "--base-url", scenario.Endpoint.ToString(), "--model", model, .. worker, "--max-cost", "1"],
            stdin: Context);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, expected);
        Assert.Contains("--max-cost needs a price", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("gpt-4.1", result.StdErr, StringComparison.Ordinal); // the models that have one
        Assert.Empty(scenario.Requests);
    }

    [Fact]
    public async Task MaxCost_OfflineModel_IsAUsageError()
    {
        var result = await RlmProcess.RunAsync(["What is the launch code?", "--stdin", "--offline", "--max-cost", "1"], stdin: Context);

        RlmProcess.AssertUsageError(result, "--max-cost cannot bound the offline model");
    }

    [Theory]
    [InlineData("--max-tokens", "0", "--max-tokens must be a positive whole number of tokens (got 0)")]
    [InlineData("--max-tokens", "-5", "--max-tokens must be a positive whole number of tokens (got -5)")]
    [InlineData("--max-tokens", "1.5", "--max-tokens must be a positive whole number of tokens (got '1.5')")]
    [InlineData("--max-tokens", "lots", "--max-tokens must be a positive whole number of tokens (got 'lots')")]
    [InlineData("--max-cost", "0", "--max-cost must be a positive number of US dollars, e.g. 0.50 (got 0)")]
    [InlineData("--max-cost", "-0.5", "--max-cost must be a positive number of US dollars, e.g. 0.50 (got -0.5)")]
    [InlineData("--max-cost", "1,5", "--max-cost must be a positive number of US dollars, e.g. 0.50 (got '1,5')")]
    [InlineData("--max-cost", "NaN", "--max-cost must be a positive number of US dollars, e.g. 0.50 (got 'NaN')")]
    [InlineData("--max-time", "0", "--max-time must be a positive number of seconds from 0.001 to 31536000 (got 0)")]
    [InlineData("--max-time", "-1", "--max-time must be a positive number of seconds from 0.001 to 31536000 (got -1)")]
    [InlineData("--max-time", "Infinity", "--max-time must be a positive number of seconds from 0.001 to 31536000 (got Infinity)")]
    [InlineData("--max-time", "1e12", "--max-time must be a positive number of seconds from 0.001 to 31536000 (got 1000000000000)")]
    [InlineData("--max-time", "soon", "--max-time must be a positive number of seconds from 0.001 to 31536000 (got 'soon')")]
    public async Task BadBudgetValues_OneLineUsageError_ExitCode2(string option, string value, string expected)
    {
        var result = await RlmProcess.RunAsync(["What is the launch code?", "--stdin", "--offline", option, value], stdin: Context);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, expected);
    }

    [Fact]
    public async Task Help_ListsTheBudgetsAndTheirExitCode()
    {
        var result = await RlmProcess.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (string text in new[] { "--max-tokens <N>", "--max-cost <USD>", "--max-time <SECONDS>", "token_budget", "also a run stopped by a budget" })
        {
            Assert.Contains(text, result.StdOut, StringComparison.Ordinal);
        }
    }

    /// <summary>A scenario answering the i-th request with <paramref name="script"/>[i] (the last reply again after the end).</summary>
    private Scenario Scripted(IReadOnlyList<string> script, TimeSpan? delay = null)
    {
        int next = -1;
        return server.NewScenario(async (context, request) =>
        {
            int i = Math.Min(Interlocked.Increment(ref next), script.Count - 1);
            if (delay is { } wait)
            {
                await Task.Delay(wait, server.ShuttingDown);
            }

            await LoopbackOpenAIServer.Json(script[i])(context, request);
        });
    }

    /// <summary>A root reply calling grep once, reporting <paramref name="model"/> and the given usage.</summary>
    private static string GrepCall(int i, string model, int promptTokens, int completionTokens)
    {
        string arguments = JsonSerializer.Serialize(JsonSerializer.Serialize(new { pattern = $"launch{i}" }));
        return "{\"id\":\"chatcmpl-grep" + i + "\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"" + model + "\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
               "{\"id\":\"call_g" + i + "\",\"type\":\"function\",\"function\":{\"name\":\"grep\",\"arguments\":" + arguments + "}}]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":" + completionTokens +
               ",\"total_tokens\":" + (promptTokens + completionTokens) + "}}";
    }
}
