using System.Net;
using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;
using static Rlm.Tools.IntegrationTests.Server.ServeTestSupport;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// SIGTERM (or SIGINT) to a real <c>rlm serve</c> while it answers: the running query finishes and the process exits 0; a query that
/// outlives <c>--shutdown-timeout</c> is canceled at the bound and the process still exits 0, soon after it.
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class ServeShutdownTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Signal_DuringAQuery_QueryCompletes_ExitCode0(string signal)
    {
        var scenario = server.NewScenario(async (context, request) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3), server.ShuttingDown);
            await LoopbackOpenAIServer.Json(ToolCall("final", new { answer = "The code is TANGO-4471." }))(context, request);
        });
        string facts = _temp.WriteText("facts.txt", "The launch code is TANGO-4471.\n");
        await using var serve = await ServeProcess.StartAsync([.. ProviderArgs(scenario.Endpoint), "--file", facts], ProviderEnvironment);
        using var http = Client(serve.BaseAddress);

        var query = http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the code?")));
        await scenario.FirstRequest.WaitAsync(TimeSpan.FromSeconds(60));
        var (exitCode, elapsed) = await serve.TerminateAsync(TimeSpan.FromSeconds(60), signal);

        var response = await query;
        string body = await response.Content.ReadAsStringAsync();
        output.WriteLine(body);
        output.WriteLine(serve.ToString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("TANGO-4471", body, StringComparison.Ordinal);
        Assert.Equal(0, exitCode);
        Assert.True(elapsed < TimeSpan.FromSeconds(30), $"stopped in {elapsed}, within the default bound of 30 s");
    }

    [Fact]
    public async Task Sigterm_QueryOutlivesTheBound_IsCanceledAtTheBound_ExitCode0()
    {
        var scenario = server.NewScenario(async (context, request) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, CancellationTokenSource.CreateLinkedTokenSource(server.ShuttingDown, context.RequestAborted).Token);
        });
        string facts = _temp.WriteText("facts.txt", "The launch code is TANGO-4471.\n");
        await using var serve = await ServeProcess.StartAsync([.. ProviderArgs(scenario.Endpoint), "--file", facts, "--shutdown-timeout", "2"], ProviderEnvironment);
        using var http = Client(serve.BaseAddress);

        var query = http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the code?")));
        await scenario.FirstRequest.WaitAsync(TimeSpan.FromSeconds(60));
        var (exitCode, elapsed) = await serve.TerminateAsync(TimeSpan.FromSeconds(60));
        output.WriteLine(serve.ToString());
        Assert.Equal(0, exitCode);
        Assert.True(elapsed >= TimeSpan.FromSeconds(1.5), $"the running query had its time: stopped after {elapsed}");
        Assert.True(elapsed < TimeSpan.FromSeconds(2 + 20), $"stopped in {elapsed}: the bound is 2 s");

        // The client is not left hanging: its request ends (the connection closed, or an error status).
        var ended = await Task.WhenAny(query, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.Same(query, ended);
    }
}
