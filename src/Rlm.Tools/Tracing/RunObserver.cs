using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rlm.Tools.Context;

namespace Rlm.Tools;

/// <summary>
/// The one path every observation of a run takes. Each step (model call, tool call, sub-call, compaction) is opened here
/// as a <see cref="RunStep"/> that starts the span, adds the trace node, logs and emits the typed event, and is completed
/// with its result. Text from outside the engine is redacted once, in <see cref="Emit"/>.
/// </summary>
internal sealed partial class RunObserver
{
    private readonly long _startTimestamp;
    private readonly TimeProvider _time;
    private readonly Action<RlmEvent>? _events;
    private readonly IProgress<RlmEvent>? _progress;
    private readonly int _maxTraceNodes;
    private readonly Lock _emitLock = new();
    private TimeSpan _lastEmitted;
    private int _traceNodes = 1; // the query's root node

    public RunObserver(RlmOptions options, Action<RlmEvent>? events)
    {
        _time = options.TimeProvider;
        _startTimestamp = _time.GetTimestamp();
        _events = events;
        _progress = options.Progress;
        _maxTraceNodes = options.MaxTraceNodes;
        Redactor = new SecretRedactor(options.RedactedValues);
        Logger = options.LoggerFactory?.CreateLogger(RlmLog.Category) ?? NullLogger.Instance;
    }

    /// <summary>Gets the time since the run started.</summary>
    public TimeSpan Elapsed => _time.GetElapsedTime(_startTimestamp);

    /// <summary>Gets the engine's logger (<see cref="RlmOptions.LoggerFactory"/>, or a null logger).</summary>
    public ILogger Logger { get; }

    /// <summary>Gets the redactor every provider text passes through before it leaves the engine.</summary>
    public SecretRedactor Redactor { get; }

    /// <summary>Gets the run's counters.</summary>
    public RunStatistics Statistics { get; } = new();

    /// <summary>Gets whether someone listens to typed events (the event stream or <see cref="RlmOptions.Progress"/>).</summary>
    public bool HasEventListener => _events is not null || _progress is not null;

    /// <summary>
    /// Sends a typed event to the stream and to <see cref="RlmOptions.Progress"/>, its outside text redacted first, stamped
    /// with the time it is sent. Called from many threads (parallel sub-calls); the receivers get one event at a time, in
    /// order of <see cref="RlmEvent.Elapsed"/>.
    /// </summary>
    public void Emit(RlmEvent e)
    {
        if (!HasEventListener)
        {
            return;
        }

        e = e.Redact(Redactor);

        // Stamped and delivered under one lock: a time taken when the event was built (before a parallel call's own
        // event got through) would reach the receivers out of order. Never earlier than the last one, whatever the clock.
        lock (_emitLock)
        {
            var now = Elapsed;
            _lastEmitted = now > _lastEmitted ? now : _lastEmitted;
            e = e with { Elapsed = _lastEmitted };
            _events?.Invoke(e);
            _progress?.Report(e);
        }
    }

    /// <summary>Opens the whole query: the <c>rlm.query</c> span, the log line and the trajectory's root node.</summary>
    public RunStep Query(ContextView view, int documents, int maxDepth)
    {
        var activity = RlmTelemetry.ActivitySource.StartActivity("rlm.query");
        activity?.SetTag("rlm.context.chars", view.Length);
        activity?.SetTag("rlm.context.lines", view.LineCount);
        activity?.SetTag("rlm.context.documents", documents);
        activity?.SetTag("rlm.max_depth", maxDepth);
        RlmLog.QueryStarted(Logger, view.Length, view.LineCount, documents, maxDepth);
        var node = new RlmTraceNode(RlmTraceKind.Session, string.Create(CultureInfo.InvariantCulture, $"query(depth=0, {view.Length:N0} chars)"), depth: 0, startedAt: TimeSpan.Zero);
        return new RunStep(this, node, activity, onEnd: null, completesNode: false); // the root session completes its node
    }

    /// <summary>Ends the query with its result: span tags, the log line and <see cref="RlmRunCompleted"/>.</summary>
    public void QueryCompleted(RunStep query, RlmResult result)
    {
        var s = result.Statistics;
        RlmLog.QueryCompleted(Logger, result.StopReason, s.Iterations, s.ModelCalls, s.ModelRetries, s.SubCalls, s.FailedSubCalls,
            result.Usage.InputTokenCount ?? 0, result.Usage.OutputTokenCount ?? 0, (long)s.WallTime.TotalMilliseconds);
        if (query.Activity is { } activity)
        {
            activity.SetTag("rlm.stop_reason", RlmStopReasonText.GetName(result.StopReason));
            activity.SetTag("rlm.iterations", s.Iterations);
            activity.SetTag("rlm.model_calls", s.ModelCalls);
            activity.SetTag("rlm.sub_calls", s.SubCalls);
            activity.SetTag("rlm.max_depth_reached", s.MaxDepthReached);
            activity.SetTag("gen_ai.usage.input_tokens", result.Usage.InputTokenCount);
            activity.SetTag("gen_ai.usage.output_tokens", result.Usage.OutputTokenCount);
            activity.SetTag("gen_ai.usage.cache_read.input_tokens", result.Usage.CachedInputTokenCount);
            activity.SetTag("rlm.memoized_sub_calls", s.MemoizedSubCalls);
            activity.SetTag("rlm.compactions", s.Compactions);
        }

        query.Complete(result.Answer);
        Emit(new RlmRunCompleted(s.WallTime, 0, result.Answer, result));
    }

    /// <summary>Reports the checked citations of the final answer: <see cref="RlmCitationsChecked"/>.</summary>
    public void CitationsChecked(IReadOnlyList<RlmCitation> citations) =>
        Emit(new RlmCitationsChecked(Elapsed, 0, citations));

    /// <summary>Ends a query that threw: the span's status and error type, and the log line for a model failure.</summary>
    public void QueryFailed(RunStep query, Exception e)
    {
        if (e is RlmModelException)
        {
            RlmLog.QueryFailed(Logger, e.Message);
        }

        query.Activity?.SetTag("error.type", e is RlmModelException model ? model.Kind.ToString() : e.GetType().FullName);
        query.Complete(e is OperationCanceledException ? "canceled" : Redactor.Redact(e.Message), isError: true);
    }

    /// <summary>Opens the model request of a session's iteration (1-based): counted, logged, and announced.</summary>
    public RunStep Iteration(RlmTraceNode parent, int depth, int iteration, string role, string? modelId)
    {
        Statistics.RecordIteration();
        var node = AddNode(parent, RlmTraceKind.ModelCall, $"model call #{iteration} ({role})", depth);
        RlmLog.Iteration(Logger, iteration, role, depth);
        Emit(new RlmIterationStarted(Elapsed, depth, iteration, role, modelId));
        return new RunStep(this, node, activity: null, onEnd: null);
    }

    /// <summary>Opens a model request that is not an iteration (a leaf, a compaction summary, a last call without tools).</summary>
    public RunStep ModelCall(RlmTraceNode parent, RlmTraceKind kind, string label, int depth) =>
        new(this, AddNode(parent, kind, label, depth), activity: null, onEnd: null);

    /// <summary>Opens a model request whose node is an existing one (a leaf sub-call is one request).</summary>
    public RunStep ModelCallAt(RlmTraceNode node) => new(this, node, activity: null, onEnd: null);

    /// <summary>The name recorded for a tool the model called but was never given (see <see cref="ToolCall"/>).</summary>
    public const string UnknownToolName = "unknown";

    /// <summary>
    /// Opens one function call of a reply: counted, an <c>execute_tool</c> span, a node, a log line and the start event.
    /// A name the model invented (<paramref name="declared"/> false) is recorded as <see cref="UnknownToolName"/> in the
    /// statistics, span, metric, log and events: it is model text, unbounded and possibly quoting the context. Only the
    /// node's label keeps it, and trajectories show it only with sensitive data.
    /// </summary>
    public RunStep ToolCall(RlmTraceNode parent, int depth, FunctionCallContent call, bool declared)
    {
        string name = declared ? call.Name ?? string.Empty : UnknownToolName;
        Statistics.RecordToolCall(name);
        var activity = RlmTelemetry.ActivitySource.StartActivity($"execute_tool {name}");
        activity?.SetTag("gen_ai.operation.name", "execute_tool");
        activity?.SetTag("gen_ai.tool.name", name);
        activity?.SetTag("gen_ai.tool.call.id", call.CallId);
        activity?.SetTag("rlm.depth", depth);
        string label = Redactor.Redact(Label(call, call.Name));
        var node = AddNode(parent, RlmTraceKind.ToolCall, label, depth);
        node.IsUnknownTool = !declared;
        string shown = declared ? label : Redactor.Redact(Label(call, UnknownToolName));
        RlmLog.ToolCall(Logger, name, depth);
        Emit(new RlmToolCallStarted(Elapsed, depth, call.CallId, name, shown));
        RlmLog.ToolCallDetail(Logger, depth, shown);
        return new RunStep(this, node, activity, (isError, summary) =>
        {
            if (isError)
            {
                activity?.SetTag("error.type", "tool_error"); // the model reads the error and may recover; the span still says it failed
            }

            if (HasEventListener)
            {
                Emit(new RlmToolCallEnded(Elapsed, depth, call.CallId, name, isError, TextLimits.OneLine(summary, 200)));
            }
        }, summaryChars: 100, publicSummary: declared ? null : "unknown tool: not one of the tools the model was given");
    }

    /// <summary>Opens a sub-call that got its budget: counted, an <c>rlm.sub_call</c> span (tagged <c>rlm.worker</c> when a named worker answers), a node, a log line and the start event.</summary>
    public RunStep SubCall(RlmTraceNode parent, int depth, int chars, bool leaf, string? modelId, string? workerName = null)
    {
        Statistics.RecordSubCall(depth);
        var activity = RlmTelemetry.ActivitySource.StartActivity("rlm.sub_call");
        activity?.SetTag("rlm.depth", depth);
        if (workerName is not null)
        {
            activity?.SetTag("rlm.worker", workerName);
        }

        activity?.SetTag("rlm.leaf", leaf);
        activity?.SetTag("rlm.context.chars", chars);
        var node = leaf
            ? AddNode(parent, RlmTraceKind.Leaf, string.Create(CultureInfo.InvariantCulture, $"leaf(depth={depth}, {chars:N0} chars)"), depth)
            : AddNode(parent, RlmTraceKind.Session, string.Create(CultureInfo.InvariantCulture, $"query(depth={depth}, {chars:N0} chars)"), depth);
        RlmLog.SubCallStarted(Logger, depth, chars, leaf ? "leaf" : "session");
        Emit(new RlmSubCallStarted(Elapsed, depth, chars, leaf, modelId));
        return new RunStep(this, node, activity, (failed, summary) =>
        {
            if (failed)
            {
                Statistics.RecordFailedSubCall();
                RlmLog.SubCallFailed(Logger, depth, summary);
            }

            if (HasEventListener)
            {
                Emit(new RlmSubCallEnded(Elapsed, depth, failed, TextLimits.OneLine(summary, 200)));
            }
        }, completesNode: false); // the leaf's model request or the child session completes the node
    }

    /// <summary>
    /// Records the calls of one reply past <see cref="RlmOptions.MaxFunctionCallsPerReply"/>, not run: counted, and one error
    /// node under the reply's model call (not one per call, so a reply of a million calls adds one node).
    /// </summary>
    public void FunctionCallsRefused(RlmTraceNode modelNode, int depth, int refused, int cap)
    {
        Statistics.RecordRefusedFunctionCalls(refused);
        RlmLog.FunctionCallsRefused(Logger, refused, cap, depth);
        AddNode(modelNode, RlmTraceKind.ToolCall, string.Create(CultureInfo.InvariantCulture, $"{refused:N0} more function calls not run (over the cap of {cap} per reply)"), depth)
            .Complete(Elapsed, "each got an error result", isError: true);
    }

    /// <summary>Records a sub-call answered by an identical earlier one of this run, or from the shared cache when <paramref name="shared"/> (no request; it used one sub-call of the budget).</summary>
    public RunStep MemoizedSubCall(RlmTraceNode parent, int depth, int chars, bool shared = false)
    {
        Statistics.RecordMemoizedSubCall();
        string from = shared ? "answered from the shared sub-call cache" : "same model, query and slice as an earlier one";
        var node = AddNode(parent, RlmTraceKind.Leaf, string.Create(CultureInfo.InvariantCulture, $"memoized sub-call (depth={depth}, {chars:N0} chars): {from}"), depth);
        Emit(new RlmSubCallMemoized(Elapsed, depth, chars));
        return new RunStep(this, node, activity: null, onEnd: null);
    }

    /// <summary>Ends a session: its node and <see cref="RlmSessionCompleted"/>.</summary>
    public void SessionCompleted(RlmTraceNode node, int depth, string answer, int iterations, RlmStopReason stopReason)
    {
        node.Complete(Elapsed, Summarize(answer, 160));
        Emit(new RlmSessionCompleted(Elapsed, depth, iterations, stopReason));
    }

    /// <summary>Ends a session that threw (a model failure, a bug): its node says why.</summary>
    public void SessionFailed(RlmTraceNode node, Exception e) => node.Complete(Elapsed, Redactor.Redact(e.Message), isError: true);

    /// <summary>
    /// A node's summary: one line of at most <paramref name="max"/> characters, redacted. A little more than is shown is
    /// redacted first, so a key that straddles the cut is still recognized by its whole shape.
    /// </summary>
    public string Summarize(string text, int max) => TextLimits.OneLine(Redactor.Redact(TextLimits.OneLine(text, max + 256)), max);

    /// <summary>Records a retry (1-based <paramref name="retry"/>) of a model request: counted, logged and announced.</summary>
    public void ModelRetry(int depth, string role, int retry, int maxRetries, TimeSpan delay, RlmModelFailureKind kind, int? statusCode, string failure, string message)
    {
        Statistics.RecordModelRetry();
        RlmLog.ModelRetry(Logger, role, failure, retry, (long)delay.TotalMilliseconds);
        if (HasEventListener)
        {
            Emit(new RlmModelRetry(Elapsed, depth, role, retry, maxRetries, delay, kind, statusCode, TextLimits.OneLine(Redactor.Redact(message), 160)));
        }
    }

    /// <summary>Ends a model request that failed for good.</summary>
    public void ModelFailed(RunStep step, string message)
    {
        Statistics.RecordFailedModelCall();
        step.Complete(message, isError: true);
        RlmLog.ModelFailed(Logger, message);
    }

    /// <summary>Records a streamed reply cut after its calls had started (the reply is kept, not retried).</summary>
    public void ReplyCut(int depth, string role, int startedCalls, string cause)
    {
        RlmLog.ReplyCut(Logger, role, startedCalls, cause);
        Emit(new RlmReplyCut(Elapsed, depth, role, startedCalls, cause));
    }

    /// <summary>Records a compaction of a session's conversation.</summary>
    public void Compacted(int depth, bool summarized, long charsBefore, long charsAfter)
    {
        Statistics.RecordCompaction();
        Emit(new RlmConversationCompacted(Elapsed, depth, summarized, charsBefore, charsAfter));
    }

    /// <summary>
    /// A node below <paramref name="parent"/>, stored while the run has fewer than <see cref="RlmOptions.MaxTraceNodes"/>;
    /// past that a detached node (never reachable from the trajectory, so its children are not stored either) is only counted.
    /// </summary>
    private RlmTraceNode AddNode(RlmTraceNode parent, RlmTraceKind kind, string label, int depth)
    {
        if (Interlocked.Increment(ref _traceNodes) <= _maxTraceNodes)
        {
            return parent.AddChild(kind, label, depth, Elapsed);
        }

        Statistics.RecordDroppedTraceNode();
        return new RlmTraceNode(kind, label, depth, Elapsed);
    }

    /// <summary>A call as one short line, e.g. <c>grep(pattern="error", max_results=5)</c>.</summary>
    private static string Label(FunctionCallContent call, string? name)
    {
        if (call.Arguments is null || call.Arguments.Count == 0)
        {
            return $"{name}()";
        }

        return $"{name}({string.Join(", ", call.Arguments.Select(a => $"{a.Key}={Show(a.Value)}"))})";

        static string Show(object? value)
        {
            string text = value switch
            {
                null => "null",
                string s => JsonSerializer.Serialize(s),
                JsonElement e => e.GetRawText(),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
            text = text.ReplaceLineEndings(" ");
            return text.Length <= 48 ? text : text[..47] + "…";
        }
    }
}

/// <summary>
/// One observed step: its trace node and span. <see cref="Complete"/> ends it once (node, span status, end event);
/// disposing ends the span of a step left uncompleted (an exception or cancellation went through it).
/// </summary>
internal sealed class RunStep : IDisposable
{
    private readonly RunObserver _observer;
    private readonly Action<bool, string>? _onEnd;
    private readonly int _summaryChars;
    private readonly bool _completesNode;
    private readonly string? _publicSummary;
    private int _completed;

    internal RunStep(RunObserver observer, RlmTraceNode node, Activity? activity, Action<bool, string>? onEnd, int summaryChars = 160, bool completesNode = true, string? publicSummary = null)
    {
        _publicSummary = publicSummary; // when set, what the span status and the end event say instead of the result (only the node keeps it)
        _observer = observer;
        Node = node;
        Activity = activity;
        _onEnd = onEnd;
        _summaryChars = summaryChars;
        _completesNode = completesNode;
    }

    /// <summary>Gets the step's trace node; steps it starts hang below it.</summary>
    public RlmTraceNode Node { get; }

    /// <summary>Gets the step's span, when someone listens.</summary>
    public Activity? Activity { get; }

    /// <summary>Ends the step with its result: the node's summary (one line), the span's status and the end event.</summary>
    /// <param name="summary">What the step gave (an answer, a result, an error message).</param>
    /// <param name="isError">Whether the step failed.</param>
    public void Complete(string summary, bool isError = false)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        if (_completesNode)
        {
            Node.Complete(_observer.Elapsed, _observer.Summarize(summary, _summaryChars), isError);
        }

        summary = _publicSummary ?? summary;
        if (isError)
        {
            Activity?.SetStatus(ActivityStatusCode.Error, _observer.Summarize(summary, 200));
        }

        _onEnd?.Invoke(isError, summary);
        Activity?.Dispose();
    }

    /// <summary>Ends a model request with its usage and cost, and tells listeners the model answered.</summary>
    public void CompleteModelCall(string summary, string role, string model, string? reportedModelId, UsageDetails? usage, decimal? costUsd, int functionCalls)
    {
        Node.SetModelUsage(model, usage, costUsd);
        Complete(summary);
        if (_observer.HasEventListener)
        {
            _observer.Emit(new RlmModelResponded(_observer.Elapsed, Node.Depth, role, reportedModelId, usage, functionCalls));
        }
    }

    public void Dispose()
    {
        if (Volatile.Read(ref _completed) == 0)
        {
            Activity?.Dispose();
        }
    }
}
