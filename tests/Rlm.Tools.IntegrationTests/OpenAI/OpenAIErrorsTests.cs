using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.AI;
using Rlm.Tools.OpenAI;
using static Rlm.Tools.IntegrationTests.OpenAI.OpenAITestHelpers;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>
/// <see cref="OpenAIErrors"/> on the exceptions real failures produce: the one line a person reads (the CLI prints it).
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class OpenAIErrorsTests(LoopbackOpenAIServer server)
{
    private static Task<Exception> FailAsync(IChatClient client)
        => Assert.ThrowsAnyAsync<Exception>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]));

    [Fact]
    public async Task HttpStatus_WithJsonErrorBody_IsStatusAndServiceMessage()
    {
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json(
            """{"error":{"message":"Incorrect API key provided.\nSee the docs.","type":"invalid_request_error","code":"invalid_api_key"}}""", 401));
        using IChatClient client = NewClient(scenario);

        Exception e = await FailAsync(client);

        Assert.True(OpenAIErrors.IsEndpointError(e));
        Assert.Equal("HTTP 401: Incorrect API key provided. See the docs.", OpenAIErrors.Describe(e));
    }

    [Fact]
    public async Task HttpStatus_WithNonJsonBody_IsTheStatusAlone_AndAStringErrorIsTaken()
    {
        Scenario html = server.NewScenario(async (context, _) =>
        {
            context.Response.StatusCode = 502;
            context.Response.ContentType = "text/html";
            await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, "<html>Bad Gateway</html>");
        });
        Scenario stringError = server.NewScenario(LoopbackOpenAIServer.Json("""{"error":"model not loaded"}""", 503));
        using IChatClient htmlClient = NewClient(html);
        using IChatClient stringClient = NewClient(stringError);

        Assert.Equal("HTTP 502", OpenAIErrors.Describe(await FailAsync(htmlClient)));
        Assert.Equal("HTTP 503: model not loaded", OpenAIErrors.Describe(await FailAsync(stringClient)));
    }

    [Fact]
    public async Task LongServiceMessage_IsCut()
    {
        string longMessage = new('x', 1000);
        Scenario scenario = server.NewScenario(LoopbackOpenAIServer.Json($$$"""{"error":{"message":"{{{longMessage}}}"}}""", 400));
        using IChatClient client = NewClient(scenario);

        string line = OpenAIErrors.Describe(await FailAsync(client));

        Assert.StartsWith("HTTP 400: xxx", line);
        Assert.EndsWith("…", line);
        Assert.Equal("HTTP 400: ".Length + OpenAIErrors.MaxDetailLength, line.Length);
    }

    [Fact]
    public async Task ConnectionRefused_IsAnEndpointError_NamingTheCause()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        using IChatClient client = OpenAIChatClientFactory.Create(DefaultModel, ApiKey, new Uri($"http://127.0.0.1:{port}/v1"));

        Exception e = await FailAsync(client);

        Assert.True(OpenAIErrors.IsEndpointError(e));
        string line = OpenAIErrors.Describe(e);
        Assert.DoesNotContain("\n", line);
        Assert.DoesNotContain(ApiKey, line);
        Assert.False(string.IsNullOrWhiteSpace(line));
    }

    [Fact]
    public async Task NetworkTimeout_EndsAHungRequest_AndReadsAsATimeout()
    {
        Scenario scenario = server.NewScenario(async (context, _) =>
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.ShuttingDown);
            await Task.Delay(TimeSpan.FromSeconds(30), linked.Token);
        });
        using IChatClient client = OpenAIChatClientFactory.Create(
            DefaultModel, ApiKey, scenario.Endpoint, new OpenAIChatClientFactoryOptions { NetworkTimeout = TimeSpan.FromMilliseconds(300) });

        Exception e = await FailAsync(client).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.True(OpenAIErrors.IsEndpointError(e));
        Assert.Equal("the request timed out", OpenAIErrors.Describe(e));
        Assert.Single(scenario.Requests); // no SDK retry by default
    }

    [Fact]
    public void OtherExceptions_AreNotEndpointErrors_AndReadAsTheirMessage()
    {
        var bug = new InvalidOperationException("outer", new ArgumentException("the real\r\ncause"));

        Assert.False(OpenAIErrors.IsEndpointError(bug));
        Assert.Equal("the real cause", OpenAIErrors.Describe(bug));
        Assert.Throws<ArgumentNullException>(() => OpenAIErrors.Describe(null!));
    }
}
