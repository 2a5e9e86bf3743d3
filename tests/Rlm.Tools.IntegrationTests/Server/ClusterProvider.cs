using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// A loopback OpenAI-compatible provider (real Kestrel on <c>http://127.0.0.1:0</c>) for replica tests: it plays the root
/// and the worker model by a script read from the question, answers after a fixed latency, and counts the requests in
/// flight (the peak is what a cluster-wide limit must bound) and the worker requests.
/// </summary>
/// <remarks>
/// <para>A request with <c>tools</c> is a root turn; its question is the <c>&lt;question&gt;</c> of the last <c>user</c>
/// message holding one, and its step is whether any <c>tool</c> message follows that message. Scripts: a question holding <c>REMEMBER:value</c> stores the value with
/// <c>set_variable("secret", value)</c>, then answers <c>stored</c>; one holding <c>RECALL</c> answers with
/// <c>final_var("secret")</c> (or <c>missing</c> when that fails); any other asks one <c>sub_llm</c> over characters
/// [0, 100) with the question as its query, then answers <c>answer: </c> and the sub-call's result.</para>
/// <para>A request without tools is a worker sub-call: it answers <c>worker saw: </c> and the query, after
/// <see cref="WorkerLatency"/> (or <see cref="SlowWorkerLatency"/> when the query holds <c>SLOW</c>). Root turns answer
/// streamed (server-sent events) when asked to, else as JSON.</para>
/// </remarks>
public sealed class ClusterProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _workerQueries = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _inFlight;
    private int _peakInFlight;
    private int _requests;

    private ClusterProvider(WebApplication app) => _app = app;

    /// <summary>Gets the base URL to pass as <c>--base-url</c> (ends in <c>/v1</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Gets or sets how long a root turn takes.</summary>
    public TimeSpan RootLatency { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Gets or sets how long a worker sub-call takes.</summary>
    public TimeSpan WorkerLatency { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Gets or sets how long a worker sub-call whose query holds <c>SLOW</c> takes.</summary>
    public TimeSpan SlowWorkerLatency { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Gets the most requests that were in flight at once.</summary>
    public int PeakInFlight => Volatile.Read(ref _peakInFlight);

    /// <summary>Gets the requests received.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Gets how many worker requests each sub-call query got.</summary>
    public IReadOnlyDictionary<string, int> WorkerQueries => new Dictionary<string, int>(_workerQueries, StringComparer.Ordinal);

    /// <summary>Gets the worker requests received.</summary>
    public int WorkerRequests => _workerQueries.Values.Sum();

    public static async Task<ClusterProvider> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var provider = new ClusterProvider(builder.Build());
        provider._app.MapPost("/v1/chat/completions", provider.HandleAsync);
        await provider._app.StartAsync();
        string address = provider._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        provider.Endpoint = new Uri(address.TrimEnd('/') + "/v1");
        return provider;
    }

    /// <summary>Forgets the peak (the counts of requests stay).</summary>
    public void ResetPeak() => Volatile.Write(ref _peakInFlight, Volatile.Read(ref _inFlight));

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        bool answered = false;
        int now = Interlocked.Increment(ref _inFlight);
        int peak;
        while ((peak = Volatile.Read(ref _peakInFlight)) < now && Interlocked.CompareExchange(ref _peakInFlight, now, peak) != peak)
        {
        }

        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var request = body.RootElement;
            var messages = request.GetProperty("messages").EnumerateArray().ToList();
            bool stream = request.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            if (request.TryGetProperty("tools", out var tools) && tools.GetArrayLength() > 0)
            {
                await Task.Delay(RootLatency, stop.Token);
                var (name, arguments) = RootStep(messages);
                await WriteAsync(context, stream, toolCall: (name, arguments), text: null, Answered);
            }
            else
            {
                string query = Text(messages[^1]);
                _workerQueries.AddOrUpdate(QueryOf(query), 1, (_, n) => n + 1);
                await Task.Delay(query.Contains("SLOW", StringComparison.Ordinal) ? SlowWorkerLatency : WorkerLatency, stop.Token);
                await WriteAsync(context, stream, toolCall: null, text: "worker saw: " + QueryOf(query), Answered);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away (a replica killed mid-request) or the provider is stopping.
        }
        finally
        {
            Answered();
        }

        // A request stops counting just before the bytes that end its response: the client cannot have read the whole
        // response, released its permit and sent the next request while this one still counts.
        void Answered()
        {
            if (!answered)
            {
                answered = true;
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    private static (string Name, JsonObject Arguments) RootStep(List<JsonElement> messages)
    {
        // The engine puts the question in <question> of a user message (a conversation's earlier turns come before it, in
        // the same message); its notes between iterations are later user messages without it.
        int at = messages.FindLastIndex(m => m.GetProperty("role").GetString() == "user" && Text(m).Contains("<question>", StringComparison.Ordinal));
        string question = at < 0 ? "" : Between(Text(messages[at]), "<question>", "</question>");
        var results = messages.Skip(at + 1).Where(m => m.GetProperty("role").GetString() == "tool").Select(Text).ToList();
        if (question.IndexOf("REMEMBER:", StringComparison.Ordinal) is int marker and >= 0)
        {
            string value = new([.. question[(marker + "REMEMBER:".Length)..].TakeWhile(char.IsLetterOrDigit)]);
            return results.Count == 0
                ? ("set_variable", new JsonObject { ["name"] = "secret", ["value"] = value })
                : ("final", new JsonObject { ["answer"] = "stored" });
        }

        if (question.Contains("RECALL", StringComparison.Ordinal))
        {
            return results.Count == 0 ? ("final_var", new JsonObject { ["name"] = "secret" }) : ("final", new JsonObject { ["answer"] = "missing" });
        }

        string ask = QuestionLine(question);
        return results.Count == 0
            ? ("sub_llm", new JsonObject { ["query"] = ask, ["start"] = 0, ["end"] = 100 })
            : ("final", new JsonObject { ["answer"] = "answer: " + results[^1] });
    }

    /// <summary>The line of a prompt that holds the scripted question (it starts with <c>Q:</c>).</summary>
    private static string QuestionLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("Q:", StringComparison.Ordinal)) is { } line
            ? line[line.IndexOf("Q:", StringComparison.Ordinal)..]
            : "Q: (none)";

    private static string Between(string text, string open, string close)
    {
        int start = text.IndexOf(open, StringComparison.Ordinal) + open.Length;
        int end = text.IndexOf(close, start, StringComparison.Ordinal);
        return end < 0 ? text[start..] : text[start..end];
    }

    private static string QueryOf(string workerPrompt) => QuestionLine(workerPrompt);

    private static string Text(JsonElement message) => message.TryGetProperty("content", out var content)
        ? content.ValueKind switch
        {
            JsonValueKind.String => content.GetString()!,
            JsonValueKind.Array => string.Concat(content.EnumerateArray().Where(p => p.TryGetProperty("text", out _)).Select(p => p.GetProperty("text").GetString())),
            _ => "",
        }
        : "";

    private static async Task WriteAsync(HttpContext context, bool stream, (string Name, JsonObject Arguments)? toolCall, string? text, Action answered)
    {
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..12];
        var usage = new JsonObject { ["prompt_tokens"] = 100, ["completion_tokens"] = 10, ["total_tokens"] = 110 };
        JsonArray? calls = toolCall is { } call
            ? [new JsonObject { ["index"] = 0, ["id"] = "call_" + id[9..], ["type"] = "function", ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments.ToJsonString() } }]
            : null;
        string finish = calls is null ? "stop" : "tool_calls";
        if (!stream)
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = text };
            if (calls is not null)
            {
                message["tool_calls"] = calls;
            }

            var completion = new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = 1700000000, ["model"] = "cluster-model",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish }),
                ["usage"] = usage,
            };
            context.Response.ContentType = "application/json";
            answered();
            await context.Response.WriteAsync(completion.ToJsonString());
            return;
        }

        context.Response.ContentType = "text/event-stream";
        var delta = new JsonObject { ["role"] = "assistant" };
        if (calls is not null)
        {
            delta["tool_calls"] = calls;
        }
        else
        {
            delta["content"] = text;
        }

        await WriteChunkAsync(context, Chunk(id, delta, finish: null, usage: null));
        answered();
        await WriteChunkAsync(context, Chunk(id, new JsonObject(), finish, usage: null));
        await WriteChunkAsync(context, new JsonObject { ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = "cluster-model", ["choices"] = new JsonArray(), ["usage"] = usage }.ToJsonString());
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static string Chunk(string id, JsonObject delta, string? finish, JsonObject? usage) => new JsonObject
    {
        ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = "cluster-model",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    }.ToJsonString();

    private static async Task WriteChunkAsync(HttpContext context, string json)
    {
        await context.Response.WriteAsync("data: " + json + "\n\n");
        await context.Response.Body.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    /// <summary>A context of <paramref name="lines"/> numbered lines, longer than the 100 characters the script's sub-call reads.</summary>
    public static string Corpus(int lines = 40) =>
        string.Concat(Enumerable.Range(1, lines).Select(i => string.Create(CultureInfo.InvariantCulture, $"line {i}: the shared corpus of the replica tests\n")));
}
