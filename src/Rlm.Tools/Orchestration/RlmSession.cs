using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// One session of the RLM loop over a view of the context: the root (depth 0) or a recursive sub-call. Each iteration sends
/// the conversation with the tool declarations, runs every function call of the reply concurrently, and appends their
/// results in call order, until <c>final</c>/<c>final_var</c> or the iteration limit.
/// </summary>
internal sealed class RlmSession
{
    private static readonly AsyncLocal<RlmTraceNode?> s_currentToolNode = new();
    private static readonly JsonSerializerOptions s_compactJson = new() { WriteIndented = false };

    private readonly RlmRun _run;
    private readonly int _depth;
    private readonly ContextView _view;
    private readonly string _query;
    private readonly RlmTraceNode _node;
    private readonly VariableStore _variables;
    private readonly ConversationState? _conversation;
    private readonly Dictionary<string, RlmTool> _tools;
    private readonly Dictionary<string, AIFunction> _customTools;
    private readonly SemaphoreSlim _jsGate = new(1, 1);
    private JsSandbox? _sandbox;

    public RlmSession(RlmRun run, int depth, ContextView view, string query, RlmTraceNode node, ConversationState? conversation = null)
    {
        _conversation = depth == 0 ? conversation : null;
        _variables = _conversation?.Variables ?? new VariableStore();
        _run = run;
        _depth = depth;
        _view = view;
        _query = query;
        _node = node;
        var context = new ToolContext
        {
            View = view,
            Variables = _variables,
            Options = run.Options,
            SubCall = (q, slice, ct) => RunSubCallAsync(q, slice, ct),
            ExecuteJavaScript = ExecuteJavaScriptAsync,
        };
        _tools = RlmToolSet.Create(context).ToDictionary(t => t.Name, StringComparer.Ordinal);

        // Custom tools (RlmOptions.Tools) are the root model's only.
        _customTools = depth == 0
            ? run.Options.Tools.OfType<AIFunction>().ToDictionary(t => t.Name, StringComparer.Ordinal)
            : new Dictionary<string, AIFunction>(StringComparer.Ordinal);
    }

    /// <summary>Gets the iterations this session has started.</summary>
    public int Iterations { get; private set; }

    private bool IsWorker => _depth > 0;

    private string Role => IsWorker ? "worker" : "root";

    private string? ModelId => IsWorker ? _run.Options.WorkerModelId : _run.Options.RootModelId;

    public async Task<SessionOutcome> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await LoopAsync(cancellationToken).ConfigureAwait(false);
            _node.Complete(_run.Elapsed, TextLimits.OneLine(outcome.Answer, 160));
            _run.Emit(new RlmSessionCompleted(_run.Elapsed, _depth, outcome.Iterations, outcome.StopReason));
            return outcome;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _node.Complete(_run.Elapsed, _run.Redactor.Redact(e.Message), isError: true);
            throw;
        }
        finally
        {
            if (_conversation is null)
            {
                _sandbox?.Dispose(); // a conversation's engine outlives the question
            }
        }
    }

    private async Task<SessionOutcome> LoopAsync(CancellationToken cancellationToken)
    {
        var options = _run.Options;
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, RenderSystemPrompt()),
            new(ChatRole.User, TaskMessage()),
        };

        // Every request extends the previous one: messages are only appended (budget lines included, never edited later);
        // only a compaction rewrites them, rarely and in one step. The compactor keeps the full transcript.
        var compactor = new ConversationCompactor(options.MaxConversationChars, options.CompactionTargetPercent,
            options.CompactConversations ? SummarizeAsync : null,
            transcript => _variables.Set(ConversationCompactor.HistoryVariable, transcript));
        compactor.Transcript.AddRange(messages.Skip(1));
        void Append(ChatMessage message)
        {
            messages.Add(message);
            compactor.Transcript.Add(message);
        }

        var chatOptions = new ChatOptions
        {
            ModelId = IsWorker ? options.WorkerModelId : options.RootModelId,
            // Declarations only: a FunctionInvokingChatClient anywhere in the user's pipeline passes the calls back to this
            // session instead of running the tools itself (M.E.AI: a declaration that is not an AIFunction is never invoked).
            Tools =
            [
                .. _tools.Values.Select(static t => (AITool)t.AsDeclarationOnly()),
                .. (IsWorker ? [] : _run.Options.Tools.Select(static t => t is AIFunction f ? f.AsDeclarationOnly() : t)),
            ],
            ToolMode = ChatToolMode.Auto,
            AllowMultipleToolCalls = true,
        };

        bool nudged = false;
        int erroredInARow = 0;
        RlmStopReason stop = RlmStopReason.IterationLimit;
        for (int iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            // Budgets: tool iterations stop at 90% of a token or cost budget, leaving room for a last answer.
            if (_run.BudgetReached(soft: true) is { } budget)
            {
                stop = budget;
                break;
            }

            _run.RecordIteration();
            await CompactAsync(compactor, messages, cancellationToken).ConfigureAwait(false);
            var modelNode = _node.AddChild(RlmTraceKind.ModelCall, $"model call #{iteration} ({Role})", _depth, _run.Elapsed);
            Iterations = iteration;
            RlmLog.Iteration(_run.Logger, iteration, Role, _depth);
            _run.Emit(new RlmIterationStarted(_run.Elapsed, _depth, iteration, Role, ModelId));
            ChatResponse response;
            string? cutShort = null;
            // Root replies stream: each call starts as soon as it is complete in the stream (RlmOptions.StreamRootResponses).
            var pipeline = !IsWorker && options.StreamRootResponses ? new PipelinedCalls(this, modelNode, cancellationToken) : null;
            try
            {
                if (pipeline is null)
                {
                    response = await _run.CallModelAsync(IsWorker, [.. messages], chatOptions, modelNode, requireText: false, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    var reply = await _run.CallRootStreamingAsync([.. messages], chatOptions, modelNode, pipeline.Start, cancellationToken).ConfigureAwait(false);
                    (response, cutShort) = (reply.Response, reply.CutShort);
                }
            }
            catch (RlmBudgetExceededException e)
            {
                modelNode.Complete(_run.Elapsed, e.Message, isError: true);
                stop = e.Reason;
                break;
            }
            catch when (pipeline is { Started: > 0 })
            {
                // Canceled with calls running (they share the token): wait for them as the non-streaming path does.
                await pipeline.SettleAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                pipeline?.EndOfReply();
            }

            foreach (var message in response.Messages)
            {
                Append(message);
            }

            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0)
            {
                if (nudged)
                {
                    return new SessionOutcome(response.Text.Trim(), RlmStopReason.TextReply, iteration);
                }

                nudged = true;
                Append(new ChatMessage(ChatRole.User,
                    "You replied without calling a tool. The run ends only when you call final(answer) or final_var(name). " +
                    "If the text above is your answer, call final with it now; otherwise continue with the tools. " + BudgetLine(iteration)));
                continue;
            }

            var results = pipeline is null
                ? await RunCallsAsync(calls, modelNode, cancellationToken).ConfigureAwait(false)
                : await pipeline.FinishAsync(calls).ConfigureAwait(false);
            Append(new ChatMessage(ChatRole.Tool, [.. calls.Select((call, i) => (AIContent)new FunctionResultContent(call.CallId, results[i].Text))]));

            foreach (var result in results)
            {
                if (result.FinalAnswer is not null)
                {
                    return new SessionOutcome(result.FinalAnswer, result.StopReason!.Value, iteration);
                }
            }

            erroredInARow = results.All(r => r.IsError) ? erroredInARow + 1 : 0;
            if (erroredInARow >= options.MaxConsecutiveErrors)
            {
                stop = RlmStopReason.ErrorLimit;
                break;
            }

            // A new trailing message, never edited afterwards, so the next request still extends this one.
            Append(new ChatMessage(ChatRole.User, cutShort is null
                ? BudgetLine(iteration)
                : $"[note] Your last reply was cut off ({cutShort}) after the calls answered above; anything after them was lost. " + BudgetLine(iteration)));
        }

        return await LastAnswerAsync(compactor, messages, chatOptions, stop, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Compacts the conversation in place when it is past <see cref="RlmOptions.MaxConversationChars"/> (see <see cref="ConversationCompactor"/>).</summary>
    private async Task CompactAsync(ConversationCompactor compactor, List<ChatMessage> messages, CancellationToken cancellationToken)
    {
        long before = messages.Sum(ConversationBudget.Size);
        if (before <= compactor.MaxChars)
        {
            return;
        }

        var compacted = (await compactor.ReduceAsync(messages, cancellationToken).ConfigureAwait(false)).ToList();
        messages.Clear();
        messages.AddRange(compacted);
        _run.RecordCompaction();
        _run.Emit(new RlmConversationCompacted(_run.Elapsed, _depth, compactor.LastSummarized, before, compacted.Sum(ConversationBudget.Size)));
    }

    /// <summary>The summary request of a compaction: one request to this session's model, through the run's retry policy, budgets and usage.</summary>
    private async Task<string> SummarizeAsync(IReadOnlyList<ChatMessage> request, CancellationToken cancellationToken)
    {
        var node = _node.AddChild(RlmTraceKind.ModelCall, $"compaction ({Role}): summary of older messages", _depth, _run.Elapsed);
        try
        {
            var response = await _run.CallModelAsync(IsWorker, request, new ChatOptions { ModelId = IsWorker ? _run.Options.WorkerModelId : _run.Options.RootModelId }, node, requireText: true, cancellationToken).ConfigureAwait(false);
            return response.Text;
        }
        catch (RlmBudgetExceededException e)
        {
            node.Complete(_run.Elapsed, e.Message, isError: true);
            throw;
        }
    }

    /// <summary>
    /// Ends a session that did not call <c>final</c>: one last call without tools asks for the answer (at the iteration
    /// and error limits, and at a token or cost budget when the rest of the budget fits the call); otherwise, and when that
    /// call is refused, the best answer so far is the model's last text.
    /// </summary>
    private async Task<SessionOutcome> LastAnswerAsync(ConversationCompactor compactor, List<ChatMessage> messages, ChatOptions chatOptions, RlmStopReason stop, CancellationToken cancellationToken)
    {
        var options = _run.Options;
        string why = stop switch
        {
            RlmStopReason.IterationLimit => $"You have used all {options.MaxIterations} iterations.",
            RlmStopReason.ErrorLimit => $"Your last {options.MaxConsecutiveErrors} iterations all ended in tool errors.",
            RlmStopReason.TokenBudget => "The run's token budget is nearly spent.",
            RlmStopReason.CostBudget => "The run's cost budget is nearly spent.",
            _ => "The run's time is up.",
        };

        int estimatedTokens = messages.Sum(m => m.Text.Length) / 4 + 1_000;
        if (stop is RlmStopReason.IterationLimit or RlmStopReason.ErrorLimit || (stop is not RlmStopReason.TimeBudget && _run.FitsLastCall(IsWorker, estimatedTokens)))
        {
            if (stop is not RlmStopReason.TimeBudget)
            {
                await CompactAsync(compactor, messages, cancellationToken).ConfigureAwait(false);
            }

            messages.Add(new ChatMessage(ChatRole.User, $"{why} Tools are now disabled. Reply with your best final answer as plain text, using what you have found so far."));
            _run.Emit(new RlmIterationsStopped(_run.Elapsed, _depth, Role, ModelId, stop, AsksForAnswer: true));
            var lastNode = _node.AddChild(RlmTraceKind.ModelCall, $"last call ({Role}, no tools)", _depth, _run.Elapsed);
            var lastOptions = chatOptions.Clone();
            lastOptions.ToolMode = ChatToolMode.None;
            try
            {
                var last = await _run.CallModelAsync(IsWorker, [.. messages], lastOptions, lastNode, requireText: true, cancellationToken).ConfigureAwait(false);
                return new SessionOutcome(last.Text.Trim(), stop, Iterations);
            }
            catch (RlmBudgetExceededException e)
            {
                lastNode.Complete(_run.Elapsed, e.Message, isError: true);
            }
        }

        string bestSoFar = messages.LastOrDefault(m => m.Role == ChatRole.Assistant && !string.IsNullOrWhiteSpace(m.Text))?.Text.Trim() ?? "";
        _run.Emit(new RlmIterationsStopped(_run.Elapsed, _depth, Role, ModelId, stop, AsksForAnswer: false));
        return new SessionOutcome(bestSoFar.Length > 0 ? bestSoFar : $"(no answer: the run stopped at its {Describe(stop)} before the model answered)", stop, Iterations);
    }

    private static string Describe(RlmStopReason stop) => RlmEvent.DescribeStop(stop);

    private async Task<ToolResult[]> RunCallsAsync(List<FunctionCallContent> calls, RlmTraceNode modelNode, CancellationToken cancellationToken)
    {
        if (calls.Count == 1)
        {
            return [await RunCallAsync(calls[0], modelNode, cancellationToken).ConfigureAwait(false)];
        }

        _run.Emit(new RlmParallelCalls(_run.Elapsed, _depth, [.. calls.Select(c => c.Name ?? string.Empty)]));

        // Task.Run so that tools which complete synchronously (grep over a large view) still overlap.
        var tasks = calls.Select(call => Task.Run(() => RunCallAsync(call, modelNode, cancellationToken), cancellationToken)).ToArray();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>
    /// The calls of one streamed root reply. The stream reader hands each <see cref="FunctionCallContent"/> over as it
    /// arrives (<see cref="Start"/>); a pump running in the session's own flow (so its async-local state, activity and
    /// logging scopes apply) starts it at once on the thread pool with the same <see cref="RunCallAsync"/> as the
    /// non-streaming path, so sub-call fan-out, the JavaScript gate and every limit apply alike. <see cref="FinishAsync"/>
    /// starts any call the stream did not hand over (a client that sends its calls only at the end, or does not stream) and
    /// returns the results in call order.
    /// </summary>
    private sealed class PipelinedCalls
    {
        private readonly RlmSession _session;
        private readonly RlmTraceNode _modelNode;
        private readonly CancellationToken _cancellationToken;
        private readonly Channel<FunctionCallContent> _arrived = Channel.CreateUnbounded<FunctionCallContent>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Dictionary<FunctionCallContent, Task<ToolResult>> _running = new(ReferenceEqualityComparer.Instance);
        private readonly Task _pump;
        private int _handedOver;

        public PipelinedCalls(RlmSession session, RlmTraceNode modelNode, CancellationToken cancellationToken)
        {
            _session = session;
            _modelNode = modelNode;
            _cancellationToken = cancellationToken;
            _pump = PumpAsync();
        }

        /// <summary>Gets how many calls the stream has handed over.</summary>
        public int Started => Volatile.Read(ref _handedOver);

        /// <summary>Hands a call over to be started now (called by the stream reader; returns at once).</summary>
        public void Start(FunctionCallContent call)
        {
            Interlocked.Increment(ref _handedOver);
            _arrived.Writer.TryWrite(call);
        }

        /// <summary>Says that the reply is over (whether it arrived, failed or was canceled): no call is handed over after this.</summary>
        public void EndOfReply() => _arrived.Writer.TryComplete();

        /// <summary>Starts the calls of the assembled reply that have not started and waits for all; results in call order.</summary>
        public async Task<ToolResult[]> FinishAsync(List<FunctionCallContent> calls)
        {
            EndOfReply();
            await _pump.ConfigureAwait(false);
            if (calls.Count > 1)
            {
                _session._run.Emit(new RlmParallelCalls(_session._run.Elapsed, _session._depth, [.. calls.Select(c => c.Name ?? string.Empty)]));
            }

            foreach (var call in calls)
            {
                Run(call);
            }

            return await Task.WhenAll(calls.Select(c => _running[c])).ConfigureAwait(false);
        }

        /// <summary>Waits for the started calls to end, whatever their outcome (the reply itself failed or was canceled).</summary>
        public async Task SettleAsync()
        {
            EndOfReply();
            await _pump.ConfigureAwait(false);
            try
            {
                await Task.WhenAll(_running.Values).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Their outcome is moot: the reply's own exception is what the caller gets.
            }
        }

        private async Task PumpAsync()
        {
            await foreach (var call in _arrived.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                Run(call);
            }
        }

        // Only the pump, then (after it ended) FinishAsync, touch _running: no lock is needed.
        private void Run(FunctionCallContent call)
        {
            if (!_running.ContainsKey(call))
            {
                // Task.Run: a tool that completes synchronously (grep over a large view) must not hold up the next call.
                _running[call] = Task.Run(() => _session.RunCallAsync(call, _modelNode, _cancellationToken), _cancellationToken);
            }
        }
    }

    private async Task<ToolResult> RunCallAsync(FunctionCallContent call, RlmTraceNode modelNode, CancellationToken cancellationToken)
    {
        string name = call.Name ?? string.Empty;
        _run.RecordToolCall(name);
        using var activity = RlmTelemetry.ActivitySource.StartActivity($"execute_tool {name}");
        activity?.SetTag("gen_ai.operation.name", "execute_tool");
        activity?.SetTag("gen_ai.tool.name", name);
        activity?.SetTag("gen_ai.tool.call.id", call.CallId);
        activity?.SetTag("rlm.depth", _depth);
        string label = Label(call);
        var node = modelNode.AddChild(RlmTraceKind.ToolCall, label, _depth, _run.Elapsed);
        RlmLog.ToolCall(_run.Logger, name, _depth);
        _run.Emit(new RlmToolCallStarted(_run.Elapsed, _depth, call.CallId, name, label));
        RlmLog.ToolCallDetail(_run.Logger, _depth, label);
        s_currentToolNode.Value = node;

        ToolResult result;
        if (call.Exception is not null)
        {
            result = ToolResult.Error($"the arguments of {name} could not be read ({TextLimits.OneLine(_run.Redactor.Redact(call.Exception.Message), 300)}). Send the arguments as a JSON object.");
        }
        else if (_customTools.TryGetValue(name, out var custom))
        {
            result = await RunCustomToolAsync(custom, call, cancellationToken).ConfigureAwait(false);
        }
        else if (!_tools.TryGetValue(name, out var tool))
        {
            result = ToolResult.Error($"unknown tool '{TextLimits.Line(name, 60)}'. The tools are: {string.Join(", ", _tools.Keys.Concat(_customTools.Keys))}.");
        }
        else
        {
            try
            {
                result = await tool.RunAsync(call.Arguments, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                result = ToolResult.Error($"{name} failed: {_run.Redactor.Redact(e.Message)}");
            }
        }

        node.Complete(_run.Elapsed, TextLimits.OneLine(result.Text, 100), result.IsError);
        if (_run.HasEventListener)
        {
            _run.Emit(new RlmToolCallEnded(_run.Elapsed, _depth, call.CallId, name, result.IsError, TextLimits.OneLine(result.Text, 200)));
        }
        if (result.IsError)
        {
            // The model reads the error and may recover; the span still says the call failed.
            activity?.SetStatus(ActivityStatusCode.Error, TextLimits.OneLine(result.Text, 200));
            activity?.SetTag("error.type", "tool_error");
        }

        return result;
    }

    /// <summary>Runs a custom tool (<see cref="RlmOptions.Tools"/>): its value as text, capped; an exception as an error result.</summary>
    private async Task<ToolResult> RunCustomToolAsync(AIFunction function, FunctionCallContent call, CancellationToken cancellationToken)
    {
        try
        {
            object? value = await function.InvokeAsync(new AIFunctionArguments(call.Arguments), cancellationToken).ConfigureAwait(false);
            string text = value switch
            {
                null => "null",
                string s => s,
                JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? "",
                JsonElement e => JsonSerializer.Serialize(e, s_compactJson), // compact: the model pays for every character
                _ => JsonSerializer.Serialize(JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())), s_compactJson),
            };
            return new ToolResult(TextLimits.Cap(text, _run.Options.MaxToolOutputChars));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return ToolResult.Error($"{function.Name} failed: {TextLimits.OneLine(_run.Redactor.Redact(e.Message), 500)}");
        }
    }

    /// <summary>
    /// Runs a sub-call one level deeper: a recursive session over <paramref name="slice"/> below the maximum depth, a leaf
    /// completion at it, or (no slice: JavaScript's <c>llm_query</c>) a leaf completion over the prompt alone. Failures are
    /// error results for this session's model, never exceptions (caller cancellation excepted).
    /// </summary>
    private Task<ToolResult> RunSubCallAsync(string query, ContextView? slice, CancellationToken cancellationToken)
    {
        if (!_run.Options.MemoizeSubCalls || _depth + 1 > _run.Options.MaxDepth)
        {
            return RunSubCallOnceAsync(query, slice, cancellationToken);
        }

        var key = new SubCallKey(_run.Options.WorkerModelId, _depth + 1, query, slice?.Start ?? -1, slice?.End ?? -1);
        var parent = s_currentToolNode.Value ?? _node;
        return _run.MemoizedSubCallAsync(key, () => RunSubCallOnceAsync(query, slice, cancellationToken), first =>
        {
            // Answered by an identical sub-call of this run: no request, no sub-call of the budget.
            int childDepth = _depth + 1;
            int chars = slice?.Length ?? query.Length;
            var node = parent.AddChild(RlmTraceKind.Leaf, $"memoized sub-call (depth={childDepth}, {chars:N0} chars): same model, query and slice as an earlier one", childDepth, _run.Elapsed);
            _run.Emit(new RlmSubCallMemoized(_run.Elapsed, childDepth, chars));
            _ = first.ContinueWith(
                t => node.Complete(_run.Elapsed, t.IsCompletedSuccessfully ? TextLimits.OneLine(t.Result.Text, 100) : "the identical sub-call failed", !t.IsCompletedSuccessfully || t.Result.IsError),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        });
    }

    private async Task<ToolResult> RunSubCallOnceAsync(string query, ContextView? slice, CancellationToken cancellationToken)
    {
        var options = _run.Options;
        int childDepth = _depth + 1;
        if (childDepth > options.MaxDepth)
        {
            return ToolResult.Error($"the maximum depth {options.MaxDepth} is reached; no further sub-calls are possible here.");
        }

        bool leaf = slice is null || childDepth >= options.MaxDepth;
        if (slice is not null && leaf && slice.Length > options.MaxLeafChars)
        {
            return ToolResult.Error(
                $"the slice has {slice.Length:N0} characters, more than a leaf sub-call at depth {childDepth} may receive ({options.MaxLeafChars:N0}). " +
                $"Split it: call chunk({options.MaxLeafChars}) and send one sub_llm per chunk (they run in parallel).");
        }

        if (slice is null && query.Length > options.MaxLeafChars)
        {
            return ToolResult.Error($"the prompt has {query.Length:N0} characters, more than a sub-call may receive ({options.MaxLeafChars:N0}). Split it into smaller prompts.");
        }

        if (!_run.TryReserveSubCall())
        {
            return ToolResult.Error($"the sub-call budget of {options.MaxSubCalls} is spent. Answer with what you have (final).");
        }

        _run.RecordDepth(childDepth);
        using var activity = RlmTelemetry.ActivitySource.StartActivity("rlm.sub_call");
        activity?.SetTag("rlm.depth", childDepth);
        activity?.SetTag("rlm.leaf", leaf);
        activity?.SetTag("rlm.context.chars", slice?.Length ?? query.Length);
        var parent = s_currentToolNode.Value ?? _node;
        int chars = slice?.Length ?? query.Length;
        RlmLog.SubCallStarted(_run.Logger, childDepth, chars, leaf ? "leaf" : "session");
        _run.Emit(new RlmSubCallStarted(_run.Elapsed, childDepth, chars, leaf, options.WorkerModelId));
        try
        {
            string answer;
            if (leaf)
            {
                var node = parent.AddChild(RlmTraceKind.Leaf, $"leaf(depth={childDepth}, {chars:N0} chars)", childDepth, _run.Elapsed);
                var messages = new List<ChatMessage>
                {
                    new(ChatRole.System, RenderPrompt(options.LeafSystemPrompt ?? RlmPrompts.Leaf, slice, childDepth)),
                    new(ChatRole.User, slice is null ? query : LeafMessage(query, slice)),
                };
                var response = await _run.CallModelAsync(worker: true, messages, new ChatOptions { ModelId = options.WorkerModelId }, node, requireText: true, cancellationToken).ConfigureAwait(false);
                answer = response.Text.Trim();
            }
            else
            {
                var node = parent.AddChild(RlmTraceKind.Session, $"query(depth={childDepth}, {slice!.Length:N0} chars)", childDepth, _run.Elapsed);
                var child = new RlmSession(_run, childDepth, slice, query, node);
                answer = (await child.RunAsync(cancellationToken).ConfigureAwait(false)).Answer;
            }

            if (answer.Length == 0)
            {
                // A recursive session that ended with an empty answer delivered nothing: a failed sub-call, counted as such.
                _run.RecordFailedSubCall();
                activity?.SetStatus(ActivityStatusCode.Error, "empty answer");
                _run.Emit(new RlmSubCallEnded(_run.Elapsed, childDepth, Failed: true, "the worker gave an empty answer"));
                return ToolResult.Error("the sub-call failed: the worker gave an empty answer.");
            }

            _run.Emit(new RlmSubCallEnded(_run.Elapsed, childDepth, Failed: false, TextLimits.OneLine(answer, 200)));
            return new ToolResult(answer);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            _run.RecordFailedSubCall();
            string error = e is RlmModelException or RlmBudgetExceededException ? e.Message : $"{e.GetType().Name}: {TextLimits.OneLine(_run.Redactor.Redact(e.Message), 300)}";
            activity?.SetStatus(ActivityStatusCode.Error, error);
            activity?.SetTag("error.type", e is RlmModelException model ? model.Kind.ToString() : e.GetType().FullName);
            RlmLog.SubCallFailed(_run.Logger, childDepth, error);
            _run.Emit(new RlmSubCallEnded(_run.Elapsed, childDepth, Failed: true, TextLimits.OneLine(error, 200)));
            return ToolResult.Error($"the sub-call failed: {error}. Retry it later, split it, or answer from what you have.");
        }
    }

    private async Task<ToolResult> ExecuteJavaScriptAsync(string code, CancellationToken cancellationToken)
    {
        // One engine per session; Jint is single-threaded, so exec_js calls of one reply take turns.
        await _jsGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var options = _run.Options;
            var limits = new JsLimits(options.JavaScriptTimeout, options.JavaScriptMaxStatements, options.JavaScriptMaxRecursionDepth, options.JavaScriptMemoryLimitBytes, options.MaxToolOutputChars);
            if (_conversation is not null)
            {
                // The conversation's engine keeps its globals across questions; it now serves this question's session.
                _conversation.Host.Current = new SessionJsHost(this);
                _sandbox = _conversation.Sandbox ??= new JsSandbox(_conversation.Host, limits);
            }
            else
            {
                _sandbox ??= new JsSandbox(new SessionJsHost(this), limits);
            }
            var result = await _sandbox.ExecuteAsync(code, cancellationToken).ConfigureAwait(false);
            return FormatJs(result);
        }
        finally
        {
            _jsGate.Release();
        }
    }

    private static ToolResult FormatJs(JsExecutionResult result)
    {
        var text = new StringBuilder();
        if (result.Output.Length > 0)
        {
            text.Append(result.Output);
            if (result.Output[^1] != '\n')
            {
                text.Append('\n');
            }
        }

        if (result.Error is not null)
        {
            text.Append("Error: ").Append(result.Error);
            return new ToolResult(text.ToString(), IsError: true);
        }

        if (result.Value is not null)
        {
            text.Append("=> ").Append(result.Value);
        }

        return new ToolResult(text.Length == 0 ? "(no output; print() to see values)" : text.ToString().TrimEnd('\n'));
    }

    private string RenderSystemPrompt() =>
        RenderPrompt(IsWorker ? _run.Options.WorkerSystemPrompt ?? RlmPrompts.Worker : _run.Options.RootSystemPrompt ?? RlmPrompts.Root, _view, _depth);

    private string RenderPrompt(string template, ContextView? view, int depth)
    {
        var options = _run.Options;
        int chars = view?.Length ?? 0;
        return RlmPrompts.Render(template, new Dictionary<string, string>
        {
            ["context_chars"] = chars.ToString("N0", CultureInfo.InvariantCulture),
            ["context_lines"] = (view?.LineCount ?? 0).ToString("N0", CultureInfo.InvariantCulture),
            ["context_documents"] = (view?.DocumentNames().Count ?? 0).ToString("N0", CultureInfo.InvariantCulture),
            ["context_tokens"] = (chars / 4).ToString("N0", CultureInfo.InvariantCulture),
            ["depth"] = depth.ToString(CultureInfo.InvariantCulture),
            ["max_depth"] = options.MaxDepth.ToString(CultureInfo.InvariantCulture),
            ["max_iterations"] = options.MaxIterations.ToString(CultureInfo.InvariantCulture),
            ["max_sub_calls"] = options.MaxSubCalls.ToString(CultureInfo.InvariantCulture),
            ["max_leaf_chars"] = options.MaxLeafChars.ToString("N0", CultureInfo.InvariantCulture),
            ["max_output_chars"] = options.MaxToolOutputChars.ToString("N0", CultureInfo.InvariantCulture),
        });
    }

    private string TaskMessage()
    {
        var text = new StringBuilder();
        if (_conversation is not null)
        {
            AppendHistory(text, _conversation, _variables);
        }

        text.Append("<question>\n").Append(_query.Trim()).Append("\n</question>\n\n");
        text.Append(CultureInfo.InvariantCulture, $"The context has {_view.Length:N0} characters in {_view.LineCount:N0} lines");
        var documents = _view.DocumentNames();
        if (documents.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" across {documents.Count:N0} document{(documents.Count == 1 ? "" : "s")}");
        }

        text.Append(CultureInfo.InvariantCulture, $" (about {_view.Length / 4:N0} tokens). It is not in this conversation: explore it with the tools.\n");
        text.Append(CultureInfo.InvariantCulture, $"Budget: {_run.Options.MaxIterations} iterations; {_run.SubCallsLeft} sub-calls left for the whole run; you are at depth {_depth} of {_run.Options.MaxDepth}.");
        return text.ToString();
    }

    /// <summary>
    /// Earlier questions and answers of the conversation, the most recent kept first within
    /// <see cref="RlmConversation.MaxHistoryChars"/>; when some do not fit, all of them are in the variable
    /// <see cref="RlmConversation.EarlierTurnsVariable"/>.
    /// </summary>
    private static void AppendHistory(StringBuilder text, ConversationState conversation, VariableStore variables)
    {
        List<RlmConversationTurn> turns;
        lock (conversation.Turns)
        {
            turns = [.. conversation.Turns];
        }

        if (turns.Count == 0)
        {
            return;
        }

        var kept = new List<string>();
        int chars = 0;
        for (int i = turns.Count - 1; i >= 0; i--)
        {
            string turn = $"Q{i + 1}: {turns[i].Question.Trim()}\nA{i + 1}: {turns[i].Answer.Trim()}\n";
            if (chars + turn.Length > RlmConversation.MaxHistoryChars)
            {
                break;
            }

            kept.Insert(0, turn);
            chars += turn.Length;
        }

        text.Append("<earlier_questions_and_answers>\n");
        if (kept.Count < turns.Count)
        {
            variables.Set(RlmConversation.EarlierTurnsVariable, string.Concat(turns.Select((t, i) => $"Q{i + 1}: {t.Question.Trim()}\nA{i + 1}: {t.Answer.Trim()}\n")));
            text.Append(CultureInfo.InvariantCulture, $"({turns.Count - kept.Count} earlier turns omitted here; every question and answer is in the variable '{RlmConversation.EarlierTurnsVariable}')\n");
        }

        text.Append(string.Concat(kept)).Append("</earlier_questions_and_answers>\nVariables and JavaScript globals from those turns are still set.\n\n");
    }

    private string BudgetLine(int iteration)
    {
        int left = _run.Options.MaxIterations - iteration;
        string line = $"[budget] iteration {iteration} of {_run.Options.MaxIterations} done: {left} left; {_run.SubCallsLeft} sub-calls left.";
        return left switch
        {
            0 => line + " No iterations are left: your next reply must be the final answer.",
            1 => line + " This is your last iteration: call final(answer) now.",
            _ => line,
        };
    }

    private static string LeafMessage(string query, ContextView slice) =>
        // One copy of the slice: the prompt itself.
        string.Concat(
            $"<question>\n{query.Trim()}\n</question>\n\n<context characters=\"{slice.Length.ToString(CultureInfo.InvariantCulture)}\">\n",
            slice.Span,
            "\n</context>");

    private static string Label(FunctionCallContent call)
    {
        if (call.Arguments is null || call.Arguments.Count == 0)
        {
            return $"{call.Name}()";
        }

        var parts = call.Arguments.Select(a => $"{a.Key}={Show(a.Value)}");
        return $"{call.Name}({string.Join(", ", parts)})";

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

    /// <summary>What JavaScript in this session may reach.</summary>
    private sealed class SessionJsHost(RlmSession session) : IJsHost
    {
        public ContextView View => session._view;

        public VariableStore Variables => session._variables;

        public IReadOnlyList<GrepHit> Grep(string pattern, int maxResults, CancellationToken cancellationToken) =>
            GrepSearch.Search(session._view, pattern, ignoreCase: true, session._run.Options.RegexTimeout, Math.Clamp(maxResults, 1, 100_000), cancellationToken).Hits;

        public async Task<string> LlmQueryAsync(string prompt, CancellationToken cancellationToken)
        {
            session._run.RecordToolCall("llm_query");
            return (await session.RunSubCallAsync(prompt, null, cancellationToken).ConfigureAwait(false)).Text;
        }

        public async Task<IReadOnlyList<string>> LlmQueryBatchedAsync(IReadOnlyList<string> prompts, CancellationToken cancellationToken)
        {
            session._run.RecordToolCall("llm_query_batched");
            var results = await Task.WhenAll(prompts.Select(p => session.RunSubCallAsync(p, null, cancellationToken))).ConfigureAwait(false);
            return [.. results.Select(r => r.Text)];
        }
    }
}
