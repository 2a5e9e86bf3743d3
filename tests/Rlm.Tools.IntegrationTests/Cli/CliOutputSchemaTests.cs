using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>rlm --output-schema FILE</c> on real <c>rlm</c> processes, the root model a loopback OpenAI-compatible server: the
/// schema reaches the model as <c>final</c>'s answer parameter, a valid answer is <c>--json</c>'s <c>value</c>, an answer
/// that never validates is retried then printed raw with exit code 1, and a bad schema file costs nothing (exit code 2).
/// </summary>
public sealed class CliOutputSchemaTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private const string Schema = """
        {
          "type": "object",
          "properties": { "file": { "type": "string" }, "line": { "type": "integer", "minimum": 1 } },
          "required": ["file", "line"],
          "additionalProperties": false
        }
        """;

    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    private string[] Args(Scenario scenario, params string[] more) =>
        ["Where is x returned?", "--dir", "src", "--base-url", scenario.Endpoint.ToString(), "--output-schema", "schema.json", .. more];

    [Fact]
    public async Task ValidAnswer_IsTheJsonValue_AndFinalIsDeclaredWithTheSchema()
    {
        _project.WriteText("src/a.cs", "int x = 1;\nreturn x;\n");
        _project.WriteText("schema.json", Schema);
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(FinalCall("{\"file\":\"src/a.cs\",\"line\":2}")));

        var run = await RlmProcess.RunAsync(Args(scenario, "--json"), workingDirectory: _project.Path);

        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        JsonSchemaTests.AssertValidResult(run.StdOut, "rlm --json --output-schema");
        using var json = JsonDocument.Parse(run.StdOut);
        var value = json.RootElement.GetProperty("value");
        Assert.Equal(("src/a.cs", 2), (value.GetProperty("file").GetString(), value.GetProperty("line").GetInt32()));
        Assert.False(json.RootElement.TryGetProperty("error", out _));

        var final = Assert.Single(scenario.SingleRequest.Json.GetProperty("tools").EnumerateArray(), t => t.GetProperty("function").GetProperty("name").GetString() == "final");
        var answer = final.GetProperty("function").GetProperty("parameters").GetProperty("properties").GetProperty("answer");
        Assert.Equal("integer", answer.GetProperty("properties").GetProperty("line").GetProperty("type").GetString());

        // Without --json the answer is printed as the JSON it is.
        var plain = await RlmProcess.RunAsync(Args(scenario), workingDirectory: _project.Path);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Equal("{\"file\":\"src/a.cs\",\"line\":2}", plain.StdOut.TrimEnd());
    }

    [Fact]
    public async Task AnswerThatNeverValidates_IsRetried_ThenPrintedRaw_Exit1()
    {
        _project.WriteText("src/a.cs", "int x = 1;\nreturn x;\n");
        _project.WriteText("schema.json", Schema);
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(FinalCall("{\"file\":\"src/a.cs\"}")));

        var run = await RlmProcess.RunAsync(Args(scenario, "--json"), workingDirectory: _project.Path);

        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(3, scenario.Requests.Count); // the answer, then 2 retries (RlmOptions.MaxAnswerFormatRetries), each told why
        Assert.Contains("does not match the required JSON schema", scenario.Requests[1].Body, StringComparison.Ordinal);
        JsonSchemaTests.AssertValidResult(run.StdOut, "rlm --json --output-schema, never valid");
        using var json = JsonDocument.Parse(run.StdOut);
        Assert.Equal("{\"file\":\"src/a.cs\"}", json.RootElement.GetProperty("answer").GetString());
        Assert.False(json.RootElement.TryGetProperty("value", out _));
        Assert.StartsWith("the answer does not match --output-schema after 2 retries: ", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        var note = Assert.Single(run.StdErrLines, l => l.Contains("--output-schema", StringComparison.Ordinal));
        Assert.Contains("line", note, StringComparison.Ordinal); // the missing property is named
        Assert.EndsWith("(the answer printed is the model's raw answer).", note, StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(run);

        var plain = await RlmProcess.RunAsync(Args(scenario), workingDirectory: _project.Path);
        Assert.True(plain.ExitCode == 1, plain.ToString());
        Assert.Equal("{\"file\":\"src/a.cs\"}", plain.StdOut.TrimEnd());
    }

    /// <summary>A root reply calling final with <paramref name="answerJson"/> as its answer argument, a JSON value (as a model sends it when final's answer parameter is the schema).</summary>
    private static string FinalCall(string answerJson)
    {
        string arguments = JsonSerializer.Serialize("{\"answer\":" + answerJson + "}");
        return "{\"id\":\"chatcmpl-final\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"server-model\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
               "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"final\",\"arguments\":" + arguments + "}}]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }

    [Theory]
    [InlineData(null, "--output-schema: cannot read schema.json: no such file")]
    [InlineData("{ \"type\": ", "--output-schema: schema.json is not JSON: ")]
    [InlineData("[1, 2]", "--output-schema: schema.json must hold a JSON Schema object")]
    [InlineData("{ \"type\": 42 }", "--output-schema: schema.json is not a JSON Schema rlm can read: ")]
    public async Task BadSchemaFile_OneLineUsageError_Exit2_NothingSent(string? content, string expected)
    {
        _project.WriteText("src/a.cs", "int x = 1;\n");
        if (content is not null)
        {
            _project.WriteText("schema.json", content);
        }

        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(CliEndpointTests.FinalCall("{}")));

        var run = await RlmProcess.RunAsync(Args(scenario), workingDirectory: _project.Path);

        output.WriteLine(run.ToString());
        RlmProcess.AssertUsageError(run, expected);
        Assert.Empty(scenario.Requests);
    }
}
