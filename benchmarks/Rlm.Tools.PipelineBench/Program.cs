using System.ClientModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI;
using Rlm.Tools;
using Rlm.Tools.OpenAI;

// rlm-pipelinebench: time to answer of one query whose first root reply streams 4 tool calls over 2 s (call i complete at
// (i + 1) × 500 ms; the reply ends with its last call), with RlmOptions.StreamRootResponses on (pipelined: each call
// starts when it is complete in the stream) and off (the calls start after the whole reply), next to the ideal: the
// lower bound when no call can start before it is complete in the stream. The root model is a streaming IChatClient
// or the OpenAI SDK against a loopback server streaming SSE, through OpenAIChatClientFactory.Create (calls handed out as
// soon as they are complete) and through Microsoft.Extensions.AI.OpenAI's AsIChatClient() alone (calls after the stream).
// Workers are in-process fakes that take a known time. Each figure is the median of --runs runs, after one warm-up.
// Usage: dotnet run --project benchmarks/Rlm.Tools.PipelineBench -c Release -- [--runs 5]
int runs = 5;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

const int Calls = 4;
const string FakeClient = "fake streaming IChatClient";
const string FactoryClient = "OpenAI SDK over loopback SSE, OpenAIChatClientFactory.Create";
const string PlainClient = "OpenAI SDK over loopback SSE, M.E.AI.OpenAI AsIChatClient() alone";
const int SpacingMs = 500;
string context = string.Concat(Enumerable.Range(0, 40).Select(i => $"line {i:D2} of the benchmark context\n"));

Scenario[] scenarios =
[
    new("4 × sub_llm, worker 500 ms each", "sub_llm", [500, 500, 500, 500], Serial: false, MaxConcurrency: 8),
    new("4 × sub_llm, worker 2.0/1.5/1.0/0.5 s", "sub_llm", [2000, 1500, 1000, 500], Serial: false, MaxConcurrency: 8),
    new("4 × sub_llm, worker 500 ms, MaxConcurrency 2", "sub_llm", [500, 500, 500, 500], Serial: false, MaxConcurrency: 2),
    new("4 × exec_js → llm_query 500 ms (one JS engine: serial)", "exec_js", [500, 500, 500, 500], Serial: true, MaxConcurrency: 8),
];

await using var wire = await SseRootServer.StartAsync(Calls, SpacingMs);
var rows = new List<string>();
foreach (var scenario in scenarios)
{
    foreach (string transport in new[] { FakeClient, FactoryClient, PlainClient })
    {
        IChatClient Root() => transport switch
        {
            FakeClient => new StreamingRootClient(scenario, Calls, SpacingMs),
            FactoryClient => OpenAIChatClientFactory.Create("root-model", endpoint: wire.Endpoint(scenario)),
            // Microsoft.Extensions.AI.OpenAI alone: its streamed calls arrive only after the last chunk.
            _ => new OpenAIClient(new ApiKeyCredential("no-key"), OpenAIChatClientFactory.CreateClientOptions(wire.Endpoint(scenario))).GetChatClient("root-model").AsIChatClient(),
        };

        async Task<double> RunOnce(bool pipelined)
        {
            var options = new RlmOptions { StreamRootResponses = pipelined, MaxConcurrency = scenario.MaxConcurrency, MaxModelRetries = 0 };
            var rlm = new RecursiveLanguageModel(Root(), new DelayWorkerClient(), options);
            var watch = Stopwatch.StartNew();
            var result = await rlm.QueryAsync("benchmark question", context);
            watch.Stop();
            if (result.Answer != "done" || result.Statistics.SubCalls != Calls || result.Statistics.FailedSubCalls != 0)
            {
                throw new InvalidOperationException($"{scenario.Name} ({transport}, pipelined {pipelined}): answer '{result.Answer}', {result.Statistics.SubCalls} sub-calls, {result.Statistics.FailedSubCalls} failed");
            }

            return watch.Elapsed.TotalSeconds;
        }

        await RunOnce(false);
        await RunOnce(true);
        var plain = new List<double>();
        var piped = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            // Alternate, so that load on the machine falls on both alike.
            plain.Add(await RunOnce(false));
            piped.Add(await RunOnce(true));
        }

        double notPipelined = Median(plain), pipelinedTime = Median(piped), ideal = scenario.IdealSeconds(Calls, SpacingMs);
        rows.Add(string.Create(CultureInfo.InvariantCulture,
            $"| {scenario.Name} | {transport} | {notPipelined:F2} | {pipelinedTime:F2} | {ideal:F2} | {pipelinedTime / notPipelined:F2} | {pipelinedTime / ideal:F2} |"));
        Console.Error.WriteLine(rows[^1]);
    }
}

Console.WriteLine($"Time to answer (s), median of {runs} runs; the first root reply streams {Calls} calls, one every {SpacingMs} ms.");
Console.WriteLine();
Console.WriteLine("| Scenario | Root model | Not pipelined | Pipelined | Ideal | Pipelined / not | Pipelined / ideal |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
rows.ForEach(Console.WriteLine);
return 0;

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

/// <summary>One workload: the tool each streamed call names, each call's worker time, and the engine's limits.</summary>
internal sealed record Scenario(string Name, string Tool, int[] WorkerMs, bool Serial, int MaxConcurrency)
{
    /// <summary>The arguments of call <paramref name="i"/>: its worker sleeps <see cref="WorkerMs"/>[i].</summary>
    public Dictionary<string, object?> Arguments(int i) => Tool == "exec_js"
        ? new() { ["code"] = $"print(llm_query('sleep {WorkerMs[i]}'))" }
        : new() { ["query"] = $"sleep {WorkerMs[i]}", ["start"] = 0, ["end"] = 200 };

    /// <summary>
    /// The lower bound: call i cannot start before it is complete in the stream ((i + 1) × spacing); calls run in parallel
    /// (or one after another when <see cref="Serial"/>) with unlimited slots; the answer needs the whole reply and every result.
    /// </summary>
    public double IdealSeconds(int calls, int spacingMs)
    {
        double finish = 0;
        for (int i = 0; i < calls; i++)
        {
            double ready = (i + 1) * spacingMs;
            finish = Serial ? Math.Max(finish, ready) + WorkerMs[i] : Math.Max(finish, ready + WorkerMs[i]);
        }

        return Math.Max(finish, calls * spacingMs) / 1000;
    }
}

/// <summary>
/// A streaming root model: the first reply yields call i at (i + 1) × spacing from its start, then usage; a request that
/// already holds tool results gets <c>final("done")</c>. Asked without streaming, it takes the same time (the whole stream).
/// </summary>
internal sealed class StreamingRootClient(Scenario scenario, int calls, int spacingMs) : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (messages.Any(m => m.Role == ChatRole.Tool))
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent("call_final", "final", new Dictionary<string, object?> { ["answer"] = "done" })]) { MessageId = "m2" };
            yield break;
        }

        var watch = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            var due = TimeSpan.FromMilliseconds((i + 1) * spacingMs) - watch.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent($"call_{i}", scenario.Tool, scenario.Arguments(i))]) { MessageId = "m1" };
        }

        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = 1000, OutputTokenCount = 200 })]) { MessageId = "m1" };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

/// <summary>A worker that answers after the time its prompt asks for (<c>sleep N</c>, in ms).</summary>
internal sealed partial class DelayWorkerClient : IChatClient
{
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var match = Sleep().Match(string.Concat(messages.Select(m => m.Text)));
        int ms = match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        await Task.Delay(ms, cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, $"slept {ms} ms")) { Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 5 } };
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    [GeneratedRegex(@"sleep (\d+)")]
    private static partial Regex Sleep();
}

/// <summary>
/// A loopback OpenAI-compatible root model (Kestrel): a streamed request gets server-sent events with each tool call
/// split over two chunks and complete at (i + 1) × spacing; a non-streamed one waits as long, then gets the whole
/// completion. A request that holds tool results gets <c>final("done")</c> at once.
/// </summary>
internal sealed class SseRootServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, Scenario> _scenarios = [];
    private readonly int _calls;
    private readonly int _spacingMs;

    private SseRootServer(WebApplication app, int calls, int spacingMs)
    {
        _app = app;
        _calls = calls;
        _spacingMs = spacingMs;
    }

    public static async Task<SseRootServer> StartAsync(int calls, int spacingMs)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new SseRootServer(app, calls, spacingMs);
        app.MapPost("/{scenario}/v1/chat/completions", server.HandleAsync);
        await app.StartAsync();
        return server;
    }

    public Uri Endpoint(Scenario scenario)
    {
        string key = $"s{_scenarios.Count}";
        foreach (var (k, s) in _scenarios)
        {
            if (ReferenceEquals(s, scenario))
            {
                key = k;
            }
        }

        _scenarios[key] = scenario;
        return new Uri($"{_app.Urls.First()}/{key}/v1");
    }

    private async Task HandleAsync(HttpContext context, string scenario)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var request = body.RootElement;
        bool stream = request.TryGetProperty("stream", out var s) && s.GetBoolean();
        bool second = request.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
        var calls = second
            ? [("call_final", "final", JsonSerializer.Serialize(new { answer = "done" }))]
            : Enumerable.Range(0, _calls).Select(i => ($"call_{i}", _scenarios[scenario].Tool, JsonSerializer.Serialize(_scenarios[scenario].Arguments(i)))).ToList();
        var watch = Stopwatch.StartNew();
        var ct = context.RequestAborted;

        async Task Until(int ms)
        {
            var due = TimeSpan.FromMilliseconds(ms) - watch.Elapsed;
            if (!second && due > TimeSpan.Zero)
            {
                await Task.Delay(due, ct);
            }
        }

        const string Head = "\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1714000300,\"model\":\"root-model\"";
        if (!stream)
        {
            await Until(_calls * _spacingMs);
            var toolCalls = calls.Select(c => new { id = c.Item1, type = "function", function = new { name = c.Item2, arguments = c.Item3 } });
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                id = "chatcmpl-bench",
                @object = "chat.completion",
                created = 1714000300,
                model = "root-model",
                choices = new[] { new { index = 0, message = new { role = "assistant", content = (string?)null, tool_calls = toolCalls }, finish_reason = "tool_calls" } },
                usage = new { prompt_tokens = 1000, completion_tokens = 200, total_tokens = 1200 },
            }), ct);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        async Task Send(string json)
        {
            await context.Response.WriteAsync($"data: {json}\n\n", ct);
            await context.Response.Body.FlushAsync(ct);
        }

        string Delta(string delta, string finish = "null") => "{" + Head + ",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finish + "}]}";
        await Send(Delta("""{"role":"assistant","content":null}"""));
        for (int i = 0; i < calls.Count; i++)
        {
            var (id, name, arguments) = calls[i];
            int half = arguments.Length / 2;
            await Until(i * _spacingMs + _spacingMs / 2);
            await Send(Delta(JsonSerializer.Serialize(new { tool_calls = new[] { new { index = i, id, type = "function", function = new { name, arguments = arguments[..half] } } } })));
            await Until((i + 1) * _spacingMs);
            await Send(Delta(JsonSerializer.Serialize(new { tool_calls = new[] { new { index = i, function = new { arguments = arguments[half..] } } } })));
        }

        await Send(Delta("{}", "\"tool_calls\""));
        await Send("{" + Head + ",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":200,\"total_tokens\":1200}}");
        await Send("[DONE]");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
