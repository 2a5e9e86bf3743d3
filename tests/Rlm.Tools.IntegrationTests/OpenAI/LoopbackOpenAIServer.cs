using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>One HTTP request as received by the loopback server.</summary>
public sealed record RecordedRequest(string Method, string Path, string? Authorization, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A real Kestrel server on <c>http://127.0.0.1:0</c>. Each test opens a <see cref="Scenario"/> with its own URL prefix
/// (<c>/s/{id}/v1</c>) and canned handler, so tests never see each other's requests.
/// </summary>
public sealed class LoopbackOpenAIServer : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, Scenario> _scenarios = new();
    private readonly CancellationTokenSource _shutdown = new();
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Cancelled when the server stops, so slow handlers do not block shutdown.</summary>
    public CancellationToken ShuttingDown => _shutdown.Token;

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();

        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
        Assert.NotEqual(0, BaseAddress.Port);
    }

    public async Task DisposeAsync()
    {
        _shutdown.Cancel();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _shutdown.Dispose();
    }

    /// <summary>Registers a canned handler; the returned scenario's <see cref="Scenario.Endpoint"/> is its base URL.</summary>
    public Scenario NewScenario(Func<HttpContext, RecordedRequest, Task> handler)
    {
        string id = Guid.NewGuid().ToString("N");
        var scenario = new Scenario(new Uri(BaseAddress, $"s/{id}/v1"), handler);
        _scenarios[id] = scenario;
        return scenario;
    }

    private async Task HandleAsync(HttpContext context)
    {
        string[] segments = context.Request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (segments.Length < 2 || segments[0] != "s" || !_scenarios.TryGetValue(segments[1], out Scenario? scenario))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        string body = await reader.ReadToEndAsync();
        var request = new RecordedRequest(
            context.Request.Method,
            context.Request.Path.Value![$"/s/{segments[1]}".Length..], // raw remainder: a "//" would show up here.
            context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null,
            body);
        scenario.Record(request);
        await scenario.Handler(context, request);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Canned responses
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Replies with a JSON body.</summary>
    public static Func<HttpContext, RecordedRequest, Task> Json(string json, int status = 200, IDictionary<string, string>? headers = null)
        => async (context, _) =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            if (headers is not null)
            {
                foreach ((string name, string value) in headers)
                {
                    context.Response.Headers[name] = value;
                }
            }

            await context.Response.WriteAsync(json);
        };

    /// <summary>Replies with a server-sent-event stream: each chunk as <c>data: {chunk}\n\n</c>, flushed separately.</summary>
    public static Func<HttpContext, RecordedRequest, Task> Sse(IEnumerable<string> dataChunks)
        => async (context, _) =>
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/event-stream";
            foreach (string chunk in dataChunks)
            {
                await context.Response.WriteAsync($"data: {chunk}\n\n");
                await context.Response.Body.FlushAsync();
            }
        };

    /// <summary>A minimal, valid non-streaming chat completion body with the given text.</summary>
    public static string TextCompletion(string text, string model = "server-model") => $$$"""
        {"id":"chatcmpl-text","object":"chat.completion","created":1700000000,"model":"{{{model}}}",
         "choices":[{"index":0,"message":{"role":"assistant","content":{{{JsonSerializer.Serialize(text)}}}},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}
        """;
}

/// <summary>A per-test handler plus the requests it received.</summary>
public sealed class Scenario(Uri endpoint, Func<HttpContext, RecordedRequest, Task> handler)
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly TaskCompletionSource<RecordedRequest> _firstRequest = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Uri Endpoint { get; } = endpoint;

    public Func<HttpContext, RecordedRequest, Task> Handler { get; } = handler;

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    /// <summary>Completes when the first request has been received (body read).</summary>
    public Task<RecordedRequest> FirstRequest => _firstRequest.Task;

    public RecordedRequest SingleRequest => Assert.Single(Requests);

    internal void Record(RecordedRequest request)
    {
        _requests.Enqueue(request);
        _firstRequest.TrySetResult(request);
    }
}

[CollectionDefinition(Name)]
public sealed class LoopbackOpenAIServerCollection : ICollectionFixture<LoopbackOpenAIServer>
{
    public const string Name = "OpenAI loopback server";
}
