using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// The state of one <see cref="RecursiveLanguageModel.QueryAsync(string, string, CancellationToken)"/> call, shared by all
/// of its sessions: options, clients, the dispatcher, the sub-call budget, usage and statistics.
/// </summary>
internal sealed class RlmRun : IAsyncDisposable
{
    private readonly long _startTimestamp;
    private readonly ConcurrentDictionary<string, int> _toolCalls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UsageDetails> _usageByModel = new(StringComparer.Ordinal);
    private readonly UsageDetails _usage = new();
    private readonly string? _rootProvider;
    private readonly string? _workerProvider;
    private int _subCallsReserved;
    private int _subCallsStarted;
    private int _failedSubCalls;
    private int _iterations;
    private int _modelCalls;
    private int _maxDepthReached;

    public RlmRun(IChatClient rootClient, IChatClient workerClient, RlmOptions options)
    {
        RootClient = rootClient;
        WorkerClient = workerClient;
        Options = options;
        Dispatcher = new SubCallDispatcher(options.MaxConcurrency);
        _rootProvider = rootClient.GetService<ChatClientMetadata>()?.ProviderName;
        _workerProvider = ReferenceEquals(workerClient, rootClient) ? _rootProvider : workerClient.GetService<ChatClientMetadata>()?.ProviderName;
        _startTimestamp = options.TimeProvider.GetTimestamp();
    }

    public IChatClient RootClient { get; }

    public IChatClient WorkerClient { get; }

    public RlmOptions Options { get; }

    public SubCallDispatcher Dispatcher { get; }

    public TimeSpan Elapsed => Options.TimeProvider.GetElapsedTime(_startTimestamp);

    /// <summary>Gets the sub-calls still available to reserve.</summary>
    public int SubCallsLeft => Math.Max(0, Options.MaxSubCalls - Volatile.Read(ref _subCallsReserved));

    /// <summary>Reserves one sub-call before dispatch, so parallel calls can never exceed <see cref="RlmOptions.MaxSubCalls"/>.</summary>
    public bool TryReserveSubCall()
    {
        while (true)
        {
            int current = Volatile.Read(ref _subCallsReserved);
            if (current >= Options.MaxSubCalls)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _subCallsReserved, current + 1, current) == current)
            {
                Interlocked.Increment(ref _subCallsStarted);
                RlmTelemetry.SubCalls.Add(1);
                return true;
            }
        }
    }

    public void RecordFailedSubCall() => Interlocked.Increment(ref _failedSubCalls);

    public void RecordIteration() => Interlocked.Increment(ref _iterations);

    public void RecordToolCall(string name)
    {
        _toolCalls.AddOrUpdate(name, 1, static (_, n) => n + 1);
        RlmTelemetry.ToolCalls.Add(1, new KeyValuePair<string, object?>("gen_ai.tool.name", name));
    }

    public void RecordDepth(int depth) => TextLimits.InterlockedMax(ref _maxDepthReached, depth);

    public void Report(RlmProgressKind kind, int depth, string message) =>
        Options.Progress?.Report(new RlmProgressEvent(kind, depth, Elapsed, message));

    /// <summary>Sends one model request through the dispatcher, recording usage, the trace node, a <c>chat</c> span and metrics.</summary>
    public async Task<ChatResponse> CallModelAsync(bool worker, IReadOnlyList<ChatMessage> messages, ChatOptions chatOptions, RlmTraceNode node, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _modelCalls);
        var client = worker ? WorkerClient : RootClient;
        string? provider = worker ? _workerProvider : _rootProvider;
        using var activity = RlmTelemetry.ActivitySource.StartActivity($"chat {chatOptions.ModelId ?? (worker ? "worker" : "root")}", ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.provider.name", provider);
            activity.SetTag("gen_ai.request.model", chatOptions.ModelId);
            activity.SetTag("rlm.role", worker ? "worker" : "root");
            activity.SetTag("rlm.depth", node.Depth);
        }

        long started = Stopwatch.GetTimestamp();
        var tags = new TagList { { "gen_ai.operation.name", "chat" }, { "gen_ai.provider.name", provider }, { "gen_ai.request.model", chatOptions.ModelId } };
        try
        {
            var response = await Dispatcher.SendAsync(client, messages, chatOptions, cancellationToken).ConfigureAwait(false);
            AddUsage(response.ModelId ?? chatOptions.ModelId ?? (worker ? "worker" : "root"), response.Usage);
            node.Complete(Elapsed, Summarize(response));
            tags.Add("gen_ai.response.model", response.ModelId);
            RlmTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            RecordTokens(response.Usage, tags);
            if (activity is not null)
            {
                activity.SetTag("gen_ai.response.model", response.ModelId);
                activity.SetTag("gen_ai.response.id", response.ResponseId);
                activity.SetTag("gen_ai.response.finish_reasons", response.FinishReason is { } reason ? new[] { reason.Value } : null);
                activity.SetTag("gen_ai.usage.input_tokens", response.Usage?.InputTokenCount);
                activity.SetTag("gen_ai.usage.output_tokens", response.Usage?.OutputTokenCount);
            }

            return response;
        }
        catch (Exception e)
        {
            tags.Add("error.type", e.GetType().FullName);
            RlmTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            activity?.SetStatus(ActivityStatusCode.Error, e is OperationCanceledException ? "canceled" : e.Message);
            activity?.SetTag("error.type", e.GetType().FullName);
            if (e is not OperationCanceledException)
            {
                node.Complete(Elapsed, e.Message, isError: true);
            }

            throw;
        }
    }

    private static void RecordTokens(UsageDetails? usage, TagList tags)
    {
        if (usage?.InputTokenCount is { } input)
        {
            var inputTags = tags;
            inputTags.Add("gen_ai.token.type", "input");
            RlmTelemetry.TokenUsage.Record(input, inputTags);
        }

        if (usage?.OutputTokenCount is { } output)
        {
            var outputTags = tags;
            outputTags.Add("gen_ai.token.type", "output");
            RlmTelemetry.TokenUsage.Record(output, outputTags);
        }
    }

    private void AddUsage(string model, UsageDetails? usage)
    {
        if (usage is null)
        {
            return;
        }

        lock (_usageByModel)
        {
            _usage.Add(usage);
            if (!_usageByModel.TryGetValue(model, out var perModel))
            {
                _usageByModel[model] = perModel = new UsageDetails();
            }

            perModel.Add(usage);
        }
    }

    public RlmResult CreateResult(SessionOutcome outcome, RlmTraceNode trajectory, int rootIterations)
    {
        Dictionary<string, UsageDetails> byModel;
        UsageDetails usage;
        lock (_usageByModel)
        {
            byModel = new Dictionary<string, UsageDetails>(_usageByModel, StringComparer.Ordinal);
            usage = new UsageDetails();
            usage.Add(_usage);
        }

        return new RlmResult
        {
            Answer = outcome.Answer,
            StopReason = outcome.StopReason,
            Usage = usage,
            UsageByModel = byModel,
            Trajectory = trajectory,
            Statistics = new RlmStatistics
            {
                Iterations = Volatile.Read(ref _iterations),
                RootIterations = rootIterations,
                ModelCalls = Volatile.Read(ref _modelCalls),
                SubCalls = Volatile.Read(ref _subCallsStarted),
                FailedSubCalls = Volatile.Read(ref _failedSubCalls),
                MaxDepthReached = Volatile.Read(ref _maxDepthReached),
                ToolCalls = new SortedDictionary<string, int>(_toolCalls, StringComparer.Ordinal),
                PeakConcurrency = Dispatcher.PeakInFlight,
                WallTime = Elapsed,
            },
        };
    }

    internal static string Summarize(ChatResponse response)
    {
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Select(c => c.Name).ToList();
        string text = response.Text;
        if (calls.Count > 0)
        {
            return $"{calls.Count} call{(calls.Count == 1 ? "" : "s")}: {string.Join(", ", calls)}";
        }

        return TextLimits.OneLine(text, 120);
    }

    public ValueTask DisposeAsync() => Dispatcher.DisposeAsync();
}

/// <summary>How a session ended: its answer and why.</summary>
internal sealed record SessionOutcome(string Answer, RlmStopReason StopReason, int Iterations);
