using System.Net;
using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;
using static Rlm.Tools.IntegrationTests.Server.ServeTestSupport;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, <c>rlm serve</c> exports its spans by OTLP: a loopback receiver gets
/// <c>/v1/traces</c> holding the request span and the engine's <c>rlm.query</c> (flushed at the latest when the server stops).
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class ServeTelemetryTests(LoopbackOpenAIServer server) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task OtlpEndpointSet_SpansOfAQueryAreExported()
    {
        var receiver = server.NewScenario((context, _) =>
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            return Task.CompletedTask;
        });
        string facts = _temp.WriteText("facts.txt", "The launch code is TANGO-4471.\n");
        string endpoint = receiver.Endpoint.ToString()[..^"/v1".Length]; // the exporter appends /v1/traces
        var serve = await ServeProcess.StartAsync(["--offline", "--file", facts], new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "rlm-serve-test",
        });
        await using (serve)
        {
            using var http = Client(serve.BaseAddress);
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the launch code?")))).StatusCode);
            Assert.Equal(0, (await serve.TerminateAsync(TimeSpan.FromSeconds(60))).ExitCode);
        }

        var traces = receiver.Requests.Where(r => r.Path == "/v1/traces").ToList();
        Assert.NotEmpty(traces);
        string all = string.Concat(traces.Select(t => t.Body)); // protobuf: span names and attributes are plain UTF-8
        Assert.Contains("rlm.query", all, StringComparison.Ordinal);
        Assert.Contains("/v1/chat/completions", all, StringComparison.Ordinal);
        Assert.Contains("rlm-serve-test", all, StringComparison.Ordinal);
    }
}
