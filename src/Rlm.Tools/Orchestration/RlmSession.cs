using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// The RLM loop of one session over a view of the context: the root (depth 0) or a recursive sub-call. Each iteration
/// sends the conversation with the tool declarations, hands the reply's calls to the <see cref="ToolInvoker"/>, and
/// appends their results in call order, until <c>final</c>/<c>final_var</c>, the iteration or error limit, or a budget;
/// then a last request without tools asks for the answer. Compaction keeps the conversation within its budget.
/// </summary>
internal sealed class RlmSession
{
    private readonly QueryRun _run;
    private readonly int _depth;
    private readonly ContextView _view;
    private readonly string _query;
    private readonly RlmTraceNode _node;
    private readonly VariableStore _variables;
    private readonly ConversationState? _conversation;
    private readonly JsSandbox _sandbox;
    private readonly ToolInvoker _tools;

    // The named worker a recursive sub-call runs on (every request of this session); null for the default worker.
    private readonly RlmWorker? _worker;

    public RlmSession(QueryRun run, int depth, ContextView view, string query, RlmTraceNode node, ConversationState? conversation = null, RlmWorker? worker = null)
    {
        _run = run;
        _worker = depth > 0 ? worker : null;
        _depth = depth;
        _view = view;
        _query = query;
        _node = node;
        _conversation = depth == 0 ? conversation : null;
        _variables = _conversation?.Variables ?? new VariableStore();
        var options = run.Options;
        var limits = new JsLimits(options.JavaScriptTimeout, options.JavaScriptMaxStatements, options.JavaScriptMaxRecursionDepth, options.JavaScriptMemoryLimitBytes, options.MaxToolOutputChars);

        // A conversation's engine keeps its globals across questions; otherwise one engine per session, made on first use.
        _sandbox = _conversation?.Sandbox(limits) ?? new JsSandbox(limits);
        _tools = new ToolInvoker(run, depth, view, _variables, _sandbox);
    }

    /// <summary>Gets the iterations this session has started.</summary>
    public int Iterations { get; private set; }

    private bool IsWorker => _depth > 0;

    private string Role => IsWorker ? "worker" : "root";

    private string? ModelId => IsWorker ? (_worker is null ? _run.Options.WorkerModelId : _worker.ModelId) : _run.Options.RootModelId;

    public async Task<SessionOutcome> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await LoopAsync(cancellationToken).ConfigureAwait(false);
            _run.Observer.SessionCompleted(_node, _depth, outcome.Answer, outcome.Iterations, outcome.StopReason);
            return outcome;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _run.Observer.SessionFailed(_node, e);
            throw;
        }
        finally
        {
            if (_conversation is null)
            {
                _sandbox.Dispose(); // a conversation's engine outlives the question
            }
        }
    }

    private async Task<SessionOutcome> LoopAsync(CancellationToken cancellationToken)
    {
        var options = _run.Options;
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, SessionPrompts.System(options, IsWorker ? options.WorkerSystemPrompt ?? RlmPrompts.Worker : options.RootSystemPrompt ?? RlmPrompts.Root, _view, _depth)),
            new(ChatRole.User, SessionPrompts.Task(options, _query, _view, _depth, _run.Budget.SubCallsLeft, _conversation))
            {
                RawRepresentation = new SessionTask(_query, _view.Length, _view.LineCount, _view.DocumentNames().Count),
            },
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
            ModelId = ModelId,
            Tools = _tools.Declarations,
            ToolMode = ChatToolMode.Auto,
            AllowMultipleToolCalls = true,
        };

        bool nudged = false;
        int erroredInARow = 0;
        RlmStopReason stop = RlmStopReason.IterationLimit;

        // A final answer whose citations failed, while the root has its one repair turn (RlmCitationPolicy.Repair): the
        // answer the run keeps when that turn brings no new final answer.
        SessionOutcome? beforeRepair = null;
        for (int iteration = 1; iteration <= options.MaxIterations + (beforeRepair is null ? 0 : 1); iteration++)
        {
            // Budgets: tool iterations stop at 90% of a token or cost budget, leaving room for a last answer.
            if (_run.Budget.Reached(soft: true) is { } budget)
            {
                if (beforeRepair is not null)
                {
                    return beforeRepair with { Iterations = Iterations };
                }

                stop = budget;
                break;
            }

            await CompactAsync(compactor, messages, cancellationToken).ConfigureAwait(false);
            Iterations = iteration;
            using var step = _run.Observer.Iteration(_node, _depth, iteration, Role, ModelId);
            ChatResponse response;
            string? cutShort = null;

            // Root replies stream: each call starts as soon as it is complete in the stream (RlmOptions.StreamRootResponses).
            var pipeline = !IsWorker && options.StreamRootResponses ? _tools.StartPipeline(step.Node, cancellationToken) : null;
            try
            {
                if (pipeline is null)
                {
                    response = await _run.Models.SendAsync(IsWorker, _worker, [.. messages], chatOptions, step, requireText: false, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    var reply = await _run.Models.SendStreamingAsync([.. messages], chatOptions, step, pipeline.Start, cancellationToken).ConfigureAwait(false);
                    (response, cutShort) = (reply.Response, reply.CutShort);
                }
            }
            catch (RlmBudgetExceededException e)
            {
                if (beforeRepair is not null)
                {
                    return beforeRepair with { Iterations = Iterations };
                }

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
                if (beforeRepair is not null)
                {
                    return beforeRepair with { Iterations = Iterations };
                }

                if (nudged)
                {
                    return new SessionOutcome(response.Text.Trim(), RlmStopReason.TextReply, iteration);
                }

                nudged = true;
                Append(new ChatMessage(ChatRole.User, SessionPrompts.Nudge(options, iteration, _run.Budget.SubCallsLeft)));
                continue;
            }

            var results = pipeline is null
                ? await _tools.RunAllAsync(calls, step.Node, cancellationToken).ConfigureAwait(false)
                : await pipeline.FinishAsync(calls).ConfigureAwait(false);
            Append(new ChatMessage(ChatRole.Tool, [.. calls.Select((call, i) => (AIContent)results[i].ToContent(call.CallId))]));

            if (results.FirstOrDefault(r => r.FinalAnswer is not null) is { } final)
            {
                var outcome = new SessionOutcome(final.FinalAnswer!, final.StopReason!.Value, iteration);
                if (beforeRepair is null && FailedCitations(outcome) is { Count: > 0 } failed)
                {
                    beforeRepair = outcome;
                    Append(new ChatMessage(ChatRole.User, SessionPrompts.CitationRepair(failed)));
                    continue;
                }

                return outcome;
            }

            if (beforeRepair is not null)
            {
                return beforeRepair with { Iterations = Iterations }; // the repair turn called tools but no final: the first answer stands
            }

            erroredInARow = results.All(r => r.IsError) ? erroredInARow + 1 : 0;
            if (erroredInARow >= options.MaxConsecutiveErrors)
            {
                stop = RlmStopReason.ErrorLimit;
                break;
            }

            // A new trailing message, never edited afterwards, so the next request still extends this one.
            string budgetLine = SessionPrompts.BudgetLine(options, iteration, _run.Budget.SubCallsLeft);
            Append(new ChatMessage(ChatRole.User, cutShort is null ? budgetLine : SessionPrompts.CutShort(cutShort) + budgetLine));
        }

        return await LastAnswerAsync(compactor, messages, chatOptions, stop, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The failed citations of the root's final answer under <see cref="RlmCitationPolicy.Repair"/> (reported as checked),
    /// else none: a worker's answer goes to its parent, whose own answer is what the host checks.
    /// </summary>
    private List<RlmCitation> FailedCitations(SessionOutcome outcome)
    {
        if (IsWorker || _run.Options.CitationPolicy != RlmCitationPolicy.Repair)
        {
            return [];
        }

        var citations = CitationChecker.Check(outcome.Answer, _view.Source);
        var failed = citations.Where(c => !c.Verified).ToList();
        if (failed.Count > 0)
        {
            _run.Observer.CitationsChecked(citations);
        }

        return failed;
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
        _run.Observer.Compacted(_depth, compactor.LastSummarized, before, compacted.Sum(ConversationBudget.Size));
    }

    /// <summary>The summary request of a compaction: one request to this session's model, through the run's retry policy, budgets and usage.</summary>
    private async Task<string> SummarizeAsync(IReadOnlyList<ChatMessage> request, CancellationToken cancellationToken)
    {
        using var step = _run.Observer.ModelCall(_node, RlmTraceKind.ModelCall, $"compaction ({Role}): summary of older messages", _depth);
        var response = await _run.Models.SendAsync(IsWorker, _worker, request, new ChatOptions { ModelId = ModelId }, step, requireText: true, cancellationToken).ConfigureAwait(false);
        return response.Text;
    }

    /// <summary>
    /// Ends a session that did not call <c>final</c>: one last call without tools asks for the answer (at the iteration
    /// and error limits, and at a token or cost budget when the rest of the budget fits the call); otherwise, and when that
    /// call is refused, fails or brings nothing, the best answer so far is the model's last text, else empty (the result's
    /// <see cref="RlmResult.StopMessage"/> says why).
    /// </summary>
    private async Task<SessionOutcome> LastAnswerAsync(ConversationCompactor compactor, List<ChatMessage> messages, ChatOptions chatOptions, RlmStopReason stop, CancellationToken cancellationToken)
    {
        string bestSoFar = messages.LastOrDefault(m => m.Role == ChatRole.Assistant && !string.IsNullOrWhiteSpace(m.Text))?.Text.Trim() ?? "";
        int estimatedTokens = messages.Sum(m => m.Text.Length) / 4 + 1_000;
        if (stop is RlmStopReason.IterationLimit or RlmStopReason.ErrorLimit || (stop is not RlmStopReason.TimeBudget && _run.Budget.FitsLastCall(ModelId, estimatedTokens)))
        {
            if (stop is not RlmStopReason.TimeBudget)
            {
                await CompactAsync(compactor, messages, cancellationToken).ConfigureAwait(false);
            }

            messages.Add(new ChatMessage(ChatRole.User, SessionPrompts.LastCall(stop)));
            _run.Observer.Emit(new RlmIterationsStopped(_run.Observer.Elapsed, _depth, Role, ModelId, stop, AsksForAnswer: true));
            using var step = _run.Observer.ModelCall(_node, RlmTraceKind.ModelCall, $"last call ({Role}, no tools)", _depth);
            var lastOptions = chatOptions.Clone();
            lastOptions.ToolMode = ChatToolMode.None;
            try
            {
                // A reply of function calls is accepted, not retried: several servers ignore tool_choice "none".
                var last = await _run.Models.SendAsync(IsWorker, _worker, [.. messages], lastOptions, step, requireText: false, cancellationToken).ConfigureAwait(false);
                if (AnswerIn(last) is { Length: > 0 } answer)
                {
                    return new SessionOutcome(answer, stop, Iterations);
                }
            }
            catch (RlmBudgetExceededException)
            {
                // Refused: fall through to the best answer so far.
            }
            catch (RlmModelException)
            {
                // The last call failed for good (recorded in the trace and statistics): the run still ends with what it has.
            }
        }

        _run.Observer.Emit(new RlmIterationsStopped(_run.Observer.Elapsed, _depth, Role, ModelId, stop, AsksForAnswer: false));
        return new SessionOutcome(bestSoFar, stop, Iterations);
    }

    /// <summary>
    /// The answer in the last reply: its text; else, from a provider that called a tool anyway, the <c>answer</c> of a
    /// <c>final</c> call or the variable of a <c>final_var</c> call (read, never run); else empty.
    /// </summary>
    private string AnswerIn(ChatResponse reply)
    {
        if (reply.Text.Trim() is { Length: > 0 } text)
        {
            return text;
        }

        foreach (var call in reply.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>())
        {
            string? argument = call.Name switch
            {
                RlmToolSet.Final => Argument(call, "answer"),
                RlmToolSet.FinalVar when Argument(call, "name") is { } name && _variables.TryGet(name, out string value) => value,
                _ => null,
            };
            if (!string.IsNullOrWhiteSpace(argument))
            {
                return argument.Trim();
            }
        }

        return "";

        static string? Argument(FunctionCallContent call, string name) =>
            call.Arguments is { } arguments && arguments.TryGetValue(name, out object? value) ? value switch
            {
                string s => s,
                System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.String } json => json.GetString(),
                System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Object or System.Text.Json.JsonValueKind.Array } json => json.GetRawText(), // a typed answer
                _ => null,
            } : null;
    }
}
