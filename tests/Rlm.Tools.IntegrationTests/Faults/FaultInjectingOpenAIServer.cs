using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rlm.Tools.IntegrationTests.Faults;

/// <summary>What the server does to one response instead of answering it properly.</summary>
public enum FaultKind
{
    /// <summary>No fault: the scripted answer.</summary>
    None,

    /// <summary>HTTP 429 with <c>Retry-After</c> (seconds).</summary>
    RateLimited,

    /// <summary>HTTP 500.</summary>
    InternalServerError,

    /// <summary>HTTP 502.</summary>
    BadGateway,

    /// <summary>HTTP 503.</summary>
    ServiceUnavailable,

    /// <summary>The connection is reset before any response (<see cref="HttpContext.Abort"/>).</summary>
    ConnectionReset,

    /// <summary>No response until the client gives up (bounded by <see cref="FaultServerOptions.HangLimit"/>).</summary>
    Hang,

    /// <summary>200 with a body that is not JSON.</summary>
    MalformedJson,

    /// <summary>200 with the scripted completion cut short.</summary>
    TruncatedJson,

    /// <summary>200 with <c>"choices": []</c>.</summary>
    EmptyChoices,

    /// <summary>200 with an assistant message that has no content (<c>""</c> or <c>null</c>) and no tool calls.</summary>
    EmptyMessage,

    /// <summary>200, root turns only: a <c>sub_llm</c> tool call whose arguments are not JSON.</summary>
    BadToolArguments,
}

/// <summary>Settings of a <see cref="FaultInjectingOpenAIServer"/>.</summary>
public sealed class FaultServerOptions
{
    /// <summary>Seed of the <see cref="Random"/> that decides which responses fail and how.</summary>
    public int Seed { get; init; } = 6;

    /// <summary>Fraction (0..1) of all responses, root and worker, that carry a fault.</summary>
    public double FaultRate { get; init; } = 0.2;

    /// <summary>The parallel <c>sub_llm</c> calls the scripted root makes per query.</summary>
    public int SubCallsPerQuery { get; init; } = 8;

    /// <summary>Characters of context per sub-call; the test's context must be <see cref="SubCallsPerQuery"/> times this.</summary>
    public int CharsPerPart { get; init; } = 1000;

    /// <summary>The <c>Retry-After</c> value of a 429, in seconds.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>The longest a <see cref="FaultKind.Hang"/> waits for the client to give up before the server resets it.</summary>
    public TimeSpan HangLimit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The client's timeout of one attempt, when known: a hung request stops counting as in flight once it has hung this
    /// long. The client started its timer before the request arrived, so it has let go by then; the server only notices the
    /// closed connection some milliseconds later, and would otherwise count a request the client no longer holds.
    /// </summary>
    public TimeSpan? ClientAttemptTimeout { get; init; }
}

/// <summary>One request as the server saw it.</summary>
/// <param name="BodyHash">SHA-256 of the body (hex, 16 characters): the retries of one request share it.</param>
/// <param name="QueryId">The query id (<c>Q17</c>) found in the request, or empty.</param>
/// <param name="IsRoot">The request carried <c>tools</c> (a root turn); otherwise a worker sub-call.</param>
/// <param name="Part">The sub-call's part number (worker requests), else -1.</param>
/// <param name="Fault">The fault injected, or <see cref="FaultKind.None"/>.</param>
/// <param name="Arrived">When the body had been read, from the server's start.</param>
/// <param name="Ended">When the server stopped working on it: the response was about to be written, the connection was reset, or the client gave up.</param>
public sealed record FaultAttempt(string BodyHash, string QueryId, bool IsRoot, int Part, FaultKind Fault, TimeSpan Arrived, TimeSpan Ended);

/// <summary>The tool results the scripted root read in the turn where it answered with <c>final</c>.</summary>
/// <param name="QueryId">The query id.</param>
/// <param name="DeliveredTokens">Every <c>SUBRESULT Qn-k</c> token found in the round's tool results, with multiplicity, in order.</param>
/// <param name="ErrorResults">The round's <c>sub_llm</c> results that held no token (errors).</param>
/// <param name="Results">The round's <c>sub_llm</c> results.</param>
public sealed record FinalTurn(string QueryId, IReadOnlyList<string> DeliveredTokens, int ErrorResults, int Results);

/// <summary>
/// A real Kestrel server on <c>http://127.0.0.1:0</c> speaking the OpenAI Chat Completions protocol (non-streaming JSON)
/// that plays a scripted root model and worker model, and injects faults, seeded, into a fraction of all responses.
/// </summary>
/// <remarks>
/// <para>The script: a request with <c>tools</c> is a root turn, one without is a worker (leaf) sub-call. A root turn whose
/// conversation holds no <c>sub_llm</c> result yet (no tool messages, or only the errors of unreadable calls) answers
/// with <see cref="FaultServerOptions.SubCallsPerQuery"/> parallel <c>sub_llm</c> calls, part <c>k</c> over characters
/// <c>[k·CharsPerPart, (k+1)·CharsPerPart)</c>. A worker answers <c>SUBRESULT Qn-k</c>. A root turn that sees the results
/// answers with one <c>final</c> call listing every token it read and the count of error results, and records them
/// (<see cref="FinalTurns"/>).</para>
/// <para>Faults are chosen by one seeded <see cref="Random"/>: each response fails with probability
/// <see cref="FaultServerOptions.FaultRate"/>; the kind is the least-injected kind applicable to the request (ties broken
/// by the same <see cref="Random"/>), so every kind occurs once there are enough faults.</para>
/// </remarks>
public sealed partial class FaultInjectingOpenAIServer : IAsyncDisposable
{
    /// <summary>The fault kinds, <see cref="FaultKind.None"/> excluded.</summary>
    public static readonly IReadOnlyList<FaultKind> AllFaults = [.. Enum.GetValues<FaultKind>().Where(k => k != FaultKind.None)];

    private const string SubCallIdPrefix = "call_sub_";

    private readonly FaultServerOptions _options;
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private readonly ConcurrentDictionary<FaultKind, int> _faults = new();
    private readonly ConcurrentQueue<FaultAttempt> _attempts = new();
    private readonly ConcurrentDictionary<string, FinalTurn> _finalTurns = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _answeredWorkerBodies = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly long _started = Stopwatch.GetTimestamp();
    private WebApplication? _app;
    private readonly ConcurrentDictionary<long, string> _inFlightNow = new();
    private long _nextId;
    private int _inFlight;
    private int _maxInFlight;
    private int _requests;

    private FaultInjectingOpenAIServer(FaultServerOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
        foreach (var kind in AllFaults)
        {
            _faults[kind] = 0;
        }
    }

    /// <summary>Gets the base address to give the OpenAI client (<c>http://127.0.0.1:port/v1</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Gets the options in force.</summary>
    public FaultServerOptions Options => _options;

    /// <summary>Gets the requests received.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Gets the most requests that were being worked on at the same moment.</summary>
    public int MaxConcurrentRequests => Volatile.Read(ref _maxInFlight);

    /// <summary>Gets what was in flight when <see cref="MaxConcurrentRequests"/> was last reached (fault kind, role, time in flight).</summary>
    public string PeakSnapshot { get; private set; } = "";

    /// <summary>Gets how many responses carried each fault kind.</summary>
    public IReadOnlyDictionary<FaultKind, int> Faults => new SortedDictionary<FaultKind, int>(AllFaults.ToDictionary(k => k, k => _faults[k]));

    /// <summary>Gets the faults injected, all kinds together.</summary>
    public int FaultCount => AllFaults.Sum(k => _faults[k]);

    /// <summary>Gets every request, in arrival order.</summary>
    public IReadOnlyList<FaultAttempt> Attempts => [.. _attempts.OrderBy(a => a.Arrived)];

    /// <summary>Gets the final turn of each query id that reached one.</summary>
    public IReadOnlyDictionary<string, FinalTurn> FinalTurns => new Dictionary<string, FinalTurn>(_finalTurns, StringComparer.Ordinal);

    /// <summary>Gets how many times each worker request body got a proper (fault-free) answer; more than 1 is a duplicate sub-call.</summary>
    public IReadOnlyDictionary<string, int> AnsweredWorkerBodies => new Dictionary<string, int>(_answeredWorkerBodies, StringComparer.Ordinal);

    /// <summary>The context a query must be asked over: <see cref="FaultServerOptions.SubCallsPerQuery"/> parts of <see cref="FaultServerOptions.CharsPerPart"/> characters.</summary>
    public string Context()
    {
        var text = new StringBuilder(_options.SubCallsPerQuery * _options.CharsPerPart);
        for (int k = 0; k < _options.SubCallsPerQuery; k++)
        {
            string head = $"[part {k}] ";
            text.Append(head).Append('x', _options.CharsPerPart - head.Length - 1).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The question for query number <paramref name="n"/>; its id is <c>Q{n}</c>.</summary>
    public static string Question(int n) => $"Collect the sub-results of query Q{n.ToString(CultureInfo.InvariantCulture)}.";

    /// <summary>Starts a server.</summary>
    public static async Task<FaultInjectingOpenAIServer> StartAsync(FaultServerOptions? options = null)
    {
        var server = new FaultInjectingOpenAIServer(options ?? new FaultServerOptions());
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 64 * 1024 * 1024);
        server._app = builder.Build();
        server._app.Run(server.HandleAsync);
        await server._app.StartAsync().ConfigureAwait(false);
        string address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Endpoint = new Uri(address.TrimEnd('/') + "/v1");
        return server;
    }

    /// <summary>Stops the server; hung requests end at once.</summary>
    public async ValueTask DisposeAsync()
    {
        await _shutdown.CancelAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _shutdown.Dispose();
    }

    /// <summary>Groups the attempts by body: the retries of one request, in arrival order.</summary>
    public IReadOnlyList<IReadOnlyList<FaultAttempt>> AttemptsByBody() =>
        [.. Attempts.GroupBy(a => a.BodyHash).Select(g => (IReadOnlyList<FaultAttempt>)[.. g.OrderBy(a => a.Arrived)])];

    private TimeSpan Now => Stopwatch.GetElapsedTime(_started);

    private async Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path.Value?.EndsWith("/chat/completions", StringComparison.Ordinal) != true)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _requests);
        long id = Interlocked.Increment(ref _nextId);
        TimeSpan arrived = Now;
        _inFlightNow[id] = "arriving";
        int now = Interlocked.Increment(ref _inFlight);
        InterlockedMax(ref _maxInFlight, now);
        int ended = 0;
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(body)))[..16];
        FaultKind fault = FaultKind.None;
        string queryId = "";
        bool isRoot = false;
        int part = -1;

        // Called once, just before the last bytes go out (or the connection is dropped): from then on the request no longer
        // counts as in flight, so a client that sends its next request the moment it has this response is not double-counted.
        void End()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0)
            {
                _inFlightNow.TryRemove(id, out _);
                Interlocked.Decrement(ref _inFlight);
                _attempts.Enqueue(new FaultAttempt(hash, queryId, isRoot, part, fault, arrived, Now));
            }
        }

        try
        {
            JsonNode request = JsonNode.Parse(body)!;
            isRoot = request["tools"] is JsonArray { Count: > 0 };
            JsonArray messages = request["messages"]!.AsArray();
            string model = request["model"]?.GetValue<string>() ?? "model";
            fault = ChooseFault(isRoot);
            _inFlightNow[id] = $"{fault}/{(isRoot ? "root" : "worker")}@{arrived.TotalMilliseconds:F0}ms";
            if (now >= Volatile.Read(ref _maxInFlight))
            {
                PeakSnapshot = $"at {Now.TotalMilliseconds:F0} ms: " + string.Join(", ", _inFlightNow.Values);
            }

            _faults.AddOrUpdate(fault, 1, static (_, n) => n + 1);

            string completion;
            if (isRoot)
            {
                queryId = QueryIdRegex().Match(FirstUserText(messages)).Value;
                completion = RootTurn(queryId, messages, model, fault == FaultKind.None);
            }
            else
            {
                var match = PartRegex().Match(FirstUserText(messages));
                queryId = match.Success ? match.Groups[2].Value : "";
                part = match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
                completion = Completion(model, Text(match.Success ? $"SUBRESULT {queryId}-{part}" : "not found in this slice"), "stop");
                if (fault == FaultKind.None)
                {
                    _answeredWorkerBodies.AddOrUpdate(hash, 1, static (_, n) => n + 1);
                }
            }

            switch (fault)
            {
                case FaultKind.None:
                    await WriteJsonAsync(context, 200, completion, End).ConfigureAwait(false);
                    break;
                case FaultKind.RateLimited:
                    context.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    await WriteJsonAsync(context, 429, Error("Rate limit reached for requests. Please try again in 1s.", "rate_limit_exceeded"), End).ConfigureAwait(false);
                    break;
                case FaultKind.InternalServerError:
                    await WriteJsonAsync(context, 500, Error("The server had an error while processing your request.", "server_error"), End).ConfigureAwait(false);
                    break;
                case FaultKind.BadGateway:
                    await WriteJsonAsync(context, 502, Error("Bad gateway.", "bad_gateway"), End).ConfigureAwait(false);
                    break;
                case FaultKind.ServiceUnavailable:
                    await WriteJsonAsync(context, 503, Error("The engine is currently overloaded, please try again later.", "overloaded"), End).ConfigureAwait(false);
                    break;
                case FaultKind.ConnectionReset:
                    End();
                    context.Abort();
                    break;
                case FaultKind.Hang:
                    using (var wait = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _shutdown.Token))
                    {
                        TimeSpan limit = _options.HangLimit;
                        try
                        {
                            if (_options.ClientAttemptTimeout is { } clientTimeout && clientTimeout < limit)
                            {
                                await Task.Delay(clientTimeout, wait.Token).ConfigureAwait(false);
                                End();
                                limit -= clientTimeout;
                            }

                            await Task.Delay(limit, wait.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                        }
                    }

                    End();
                    context.Abort();
                    break;
                case FaultKind.MalformedJson:
                    await WriteJsonAsync(context, 200, "{\"id\": \"chatcmpl-broken\", \"object\": \"chat.completion\", \"choices\": [ {{ <html>502 upstream</html>", End).ConfigureAwait(false);
                    break;
                case FaultKind.TruncatedJson:
                    // Cut inside the choices, before any content: the token must not be readable from the fragment.
                    await WriteJsonAsync(context, 200, completion[..(completion.IndexOf("\"choices\"", StringComparison.Ordinal) + 22)], End).ConfigureAwait(false);
                    break;
                case FaultKind.EmptyChoices:
                    await WriteJsonAsync(context, 200, Completion(model, null, "stop"), End).ConfigureAwait(false);
                    break;
                case FaultKind.EmptyMessage:
                    bool nullContent;
                    lock (_randomLock)
                    {
                        nullContent = _random.Next(2) == 0;
                    }

                    await WriteJsonAsync(context, 200, Completion(model, new JsonObject { ["role"] = "assistant", ["content"] = nullContent ? null : "" }, "stop"), End).ConfigureAwait(false);
                    break;
                case FaultKind.BadToolArguments:
                    var bad = new JsonArray
                    {
                        ToolCall($"call_bad_{queryId}_{messages.Count}", "sub_llm", $"{{\"query\": \"part 0 of {queryId}\", \"start\": 0, \"end\""),
                    };
                    await WriteJsonAsync(context, 200, Completion(model, new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = bad }, "tool_calls"), End).ConfigureAwait(false);
                    break;
            }
        }
        finally
        {
            End();
        }
    }

    private FaultKind ChooseFault(bool isRoot)
    {
        lock (_randomLock)
        {
            if (_random.NextDouble() >= _options.FaultRate)
            {
                return FaultKind.None;
            }

            var applicable = AllFaults.Where(k => isRoot || k != FaultKind.BadToolArguments).ToList();
            int least = applicable.Min(k => _faults[k]);
            var candidates = applicable.Where(k => _faults[k] == least).ToList();
            return candidates[_random.Next(candidates.Count)];
        }
    }

    /// <summary>The scripted root: fan out, or read the latest round of sub_llm results and answer.</summary>
    private string RootTurn(string queryId, JsonArray messages, string model, bool record)
    {
        // Rounds: the tool messages that follow one assistant message. The latest round holding a result of a real
        // sub_llm call (not the error of an unreadable call) is what the root answers from.
        List<(string CallId, string Content)>? latest = null;
        List<(string CallId, string Content)>? current = null;
        foreach (var message in messages)
        {
            string role = message?["role"]?.GetValue<string>() ?? "";
            if (role == "tool")
            {
                current ??= [];
                current.Add((message!["tool_call_id"]?.GetValue<string>() ?? "", ContentText(message["content"])));
                continue;
            }

            if (current is not null && current.Any(r => r.CallId.StartsWith(SubCallIdPrefix, StringComparison.Ordinal)))
            {
                latest = current;
            }

            current = null;
        }

        if (current is not null && current.Any(r => r.CallId.StartsWith(SubCallIdPrefix, StringComparison.Ordinal)))
        {
            latest = current;
        }

        int turn = messages.Count(m => m?["role"]?.GetValue<string>() == "assistant");
        if (latest is null)
        {
            var calls = new JsonArray();
            for (int k = 0; k < _options.SubCallsPerQuery; k++)
            {
                string arguments = JsonSerializer.Serialize(new { query = $"part {k} of {queryId}", start = k * _options.CharsPerPart, end = (k + 1) * _options.CharsPerPart });
                calls.Add(ToolCall($"{SubCallIdPrefix}{queryId}_t{turn}_{k}", "sub_llm", arguments));
            }

            return Completion(model, new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = calls }, "tool_calls");
        }

        var results = latest.Where(r => r.CallId.StartsWith(SubCallIdPrefix, StringComparison.Ordinal)).ToList();
        var tokens = results.SelectMany(r => TokenRegex().Matches(r.Content).Select(m => m.Value)).ToList();
        int errors = results.Count(r => !TokenRegex().IsMatch(r.Content));
        if (record)
        {
            _finalTurns[queryId] = new FinalTurn(queryId, tokens, errors, results.Count);
        }

        string answer = $"{queryId}: {string.Join(", ", tokens)}; errors: {errors.ToString(CultureInfo.InvariantCulture)}";
        var final = new JsonArray { ToolCall($"call_final_{queryId}_t{turn}", "final", JsonSerializer.Serialize(new { answer })) };
        return Completion(model, new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = final }, "tool_calls");
    }

    private static string FirstUserText(JsonArray messages) =>
        messages.FirstOrDefault(m => m?["role"]?.GetValue<string>() == "user") is { } user ? ContentText(user["content"]) : "";

    private static string ContentText(JsonNode? content) => content switch
    {
        null => "",
        JsonValue value when value.TryGetValue(out string? text) => text,
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => content.ToJsonString(),
    };

    private static JsonObject Text(string text) => new() { ["role"] = "assistant", ["content"] = text };

    private static JsonObject ToolCall(string id, string name, string arguments) => new()
    {
        ["id"] = id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
    };

    private static string Completion(string model, JsonObject? message, string finishReason)
    {
        var choices = new JsonArray();
        if (message is not null)
        {
            choices.Add(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finishReason });
        }

        return new JsonObject
        {
            ["id"] = "chatcmpl-fault",
            ["object"] = "chat.completion",
            ["created"] = 1700000000,
            ["model"] = model,
            ["choices"] = choices,
            ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 5, ["total_tokens"] = 15 },
        }.ToJsonString();
    }

    private static string Error(string message, string code) =>
        new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = code, ["param"] = null, ["code"] = code } }.ToJsonString();

    private static async Task WriteJsonAsync(HttpContext context, int status, string json, Action end)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        end();
        try
        {
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client gave up first.
        }
    }

    private static void InterlockedMax(ref int location, int value)
    {
        int current = Volatile.Read(ref location);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    [GeneratedRegex(@"\bQ\d+\b")]
    private static partial Regex QueryIdRegex();

    [GeneratedRegex(@"part (\d+) of (Q\d+)")]
    private static partial Regex PartRegex();

    [GeneratedRegex(@"SUBRESULT Q\d+-\d+")]
    private static partial Regex TokenRegex();
}
