using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Runs the sub-calls of one query (<c>sub_llm</c>, JavaScript's <c>llm_query</c>): the host's depth and size checks,
/// the sub-call budget (reserved before dispatch, by memoized calls too), single-flight memoization (<see cref="RlmOptions.MemoizeSubCalls"/>)
/// in front of the shared memo (<see cref="RlmOptions.SubCallCache"/>), then a child <see cref="RlmSession"/> below the maximum depth or one leaf completion at it. Failures are results for
/// the caller's model, never exceptions (caller cancellation excepted).
/// </summary>
internal sealed partial class SubCallRunner : ISubCallRunner
{
    private readonly QueryRun _run;
    private readonly SubCallFit? _fit;
    private readonly ConcurrentDictionary<SubCallKey, Lazy<Task<SubCallResult>>> _memo = new();
    private readonly SharedSubCallMemo? _shared;

    /// <param name="run">The query.</param>
    /// <param name="fit">The worker's context-window check, or <see langword="null"/> when its window is unknown.</param>
    public SubCallRunner(QueryRun run, SubCallFit? fit)
    {
        _run = run;
        _fit = fit;
        _shared = run.Options.SubCallCache is { } cache ? new SharedSubCallMemo(cache, run.Observer.Logger) : null;
    }

    public Task<SubCallResult> RunAsync(SubCallRequest request, CancellationToken cancellationToken)
    {
        var options = _run.Options;
        if (!options.MemoizeSubCalls || request.CallerDepth + 1 > options.MaxDepth)
        {
            return RunOnceAsync(request, cancellationToken);
        }

        var key = new SubCallKey(request.Worker?.Name, request.Worker is null ? options.WorkerModelId : request.Worker.ModelId, request.CallerDepth + 1, request.Query, request.Slice?.Start ?? -1, request.Slice?.End ?? -1);
        return MemoizedAsync(key, request, cancellationToken);
    }

    /// <summary>
    /// The first caller with a key runs the sub-call; concurrent callers with the same key wait for it (single flight) and
    /// later ones reuse its answer, each recorded as memoized. A failure is not remembered: the next identical call runs again.
    /// </summary>
    private async Task<SubCallResult> MemoizedAsync(SubCallKey key, SubCallRequest request, CancellationToken cancellationToken)
    {
        var mine = new Lazy<Task<SubCallResult>>(() => _shared is null ? RunOnceAsync(request, cancellationToken) : SharedOrRunOnceAsync(key, request, cancellationToken), LazyThreadSafetyMode.ExecutionAndPublication);
        var entry = _memo.GetOrAdd(key, mine);
        if (!ReferenceEquals(entry, mine))
        {
            // Answered by an identical sub-call of this run: no request, but one sub-call of the budget all the same, so a
            // loop of identical calls (cheap to write in exec_js) ends at MaxSubCalls instead of adding a node per call.
            if (!_run.Budget.TryReserveSubCall())
            {
                return BudgetSpent();
            }

            var step = _run.Observer.MemoizedSubCall(request.Parent, key.Depth, request.Slice?.Length ?? request.Query.Length);
            try
            {
                var result = await entry.Value.ConfigureAwait(false);
                step.Complete(result.Failed ? "the identical sub-call failed" : result.Answer!, result.Failed);
                return result;
            }
            catch (Exception)
            {
                step.Complete("the identical sub-call failed", isError: true);
                throw;
            }
        }

        try
        {
            var result = await entry.Value.ConfigureAwait(false);
            if (result.Failed)
            {
                _memo.TryRemove(new KeyValuePair<SubCallKey, Lazy<Task<SubCallResult>>>(key, entry));
            }

            return result;
        }
        catch
        {
            _memo.TryRemove(new KeyValuePair<SubCallKey, Lazy<Task<SubCallResult>>>(key, entry));
            throw;
        }
    }

    /// <summary>
    /// The answer of an identical sub-call from the shared memo (another query, another replica): reported and budgeted like
    /// an in-run memo hit. On a miss the sub-call runs, and a successful answer is stored for the others.
    /// </summary>
    private async Task<SubCallResult> SharedOrRunOnceAsync(SubCallKey key, SubCallRequest request, CancellationToken cancellationToken)
    {
        var slice = request.Slice;
        string sharedKey = SharedSubCallMemo.Key(_run.Options, key, request.Query, slice is null ? default : slice.Span, hasSlice: slice is not null);
        if (await _shared!.TryGetAsync(sharedKey, cancellationToken).ConfigureAwait(false) is { } answer)
        {
            if (!_run.Budget.TryReserveSubCall())
            {
                return BudgetSpent();
            }

            _run.Observer.MemoizedSubCall(request.Parent, key.Depth, slice?.Length ?? request.Query.Length, shared: true).Complete(answer);
            return SubCallResult.Success(answer);
        }

        var result = await RunOnceAsync(request, cancellationToken).ConfigureAwait(false);
        if (!result.Failed)
        {
            await _shared.StoreAsync(sharedKey, result.Answer!, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    private async Task<SubCallResult> RunOnceAsync(SubCallRequest request, CancellationToken cancellationToken)
    {
        var options = _run.Options;
        var (query, slice) = (request.Query, request.Slice);
        int depth = request.CallerDepth + 1;
        if (depth > options.MaxDepth)
        {
            return SubCallResult.Failure($"the maximum depth {options.MaxDepth} is reached; no further sub-calls are possible here.");
        }

        bool leaf = slice is null || depth >= options.MaxDepth;
        if (slice is not null && leaf && slice.Length > options.MaxLeafChars)
        {
            return SubCallResult.Failure(
                $"the slice has {slice.Length:N0} characters, more than a leaf sub-call at depth {depth} may receive ({options.MaxLeafChars:N0}). " +
                $"Split it: call chunk({options.MaxLeafChars}) and send one sub_llm per chunk (they run in parallel).");
        }

        if (slice is null && query.Length > options.MaxLeafChars)
        {
            return SubCallResult.Failure($"the prompt has {query.Length:N0} characters, more than a sub-call may receive ({options.MaxLeafChars:N0}). Split it into smaller prompts.");
        }

        // A leaf prompt over the worker's window is never sent (nor counted against the budget): the model reads the sizes.
        var leafMessages = leaf ? LeafMessages(query, slice, depth) : null;
        var fit = request.Worker is { } named ? SubCallFit.For(options, named) : _fit;
        if (leafMessages is not null && fit?.Check(leafMessages, query, slice) is { } tooLarge)
        {
            return options.AutoSplitOversizedSubCalls && slice is not null
                ? await SubCallSplitter.RunAsync(this, _run, request, fit, leafMessages, tooLarge, cancellationToken).ConfigureAwait(false)
                : SubCallResult.Failure(tooLarge);
        }

        if (!_run.Budget.TryReserveSubCall())
        {
            return BudgetSpent();
        }

        var worker = request.Worker;
        using var step = _run.Observer.SubCall(request.Parent, depth, slice?.Length ?? query.Length, leaf, worker is null ? options.WorkerModelId : worker.ModelId, worker?.Name);
        try
        {
            var outcome = leaf ? null : await new RlmSession(_run, depth, slice!, query, step.Node, worker: worker).RunAsync(cancellationToken).ConfigureAwait(false);
            string answer = outcome?.Answer ?? await LeafAsync(leafMessages!, worker, step, cancellationToken).ConfigureAwait(false);
            if (answer.Length == 0)
            {
                // A sub-call that ended with an empty answer delivered nothing: a failed sub-call, counted as such.
                string why = outcome is null ? "" : $" ({RlmStopReasonText.DescribeStop(outcome.StopReason, hasAnswer: false)?.TrimEnd('.')})";
                step.Complete("the worker gave an empty answer" + why, isError: true);
                return SubCallResult.Failure($"the sub-call failed: the worker gave an empty answer{why}.");
            }

            step.Complete(answer);
            return SubCallResult.Success(answer);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            string error = e is RlmModelException or RlmBudgetExceededException ? e.Message : $"{e.GetType().Name}: {TextLimits.OneLine(_run.Observer.Redactor.Redact(e.Message), 300)}";
            step.Activity?.SetTag("error.type", e is RlmModelException model ? model.Kind.ToString() : e.GetType().FullName);
            step.Complete(error, isError: true);
            return SubCallResult.Failure($"the sub-call failed: {error}. Retry it later, split it, or answer from what you have.");
        }
    }

    private SubCallResult BudgetSpent() =>
        SubCallResult.Failure($"the sub-call budget of {_run.Options.MaxSubCalls} is spent (identical, memoized calls count too). Answer with what you have (final).");

    /// <summary>The prompt of a leaf completion over the slice (or the prompt alone).</summary>
    private List<ChatMessage> LeafMessages(string query, ContextView? slice, int depth)
    {
        var options = _run.Options;
        return
        [
            new(ChatRole.System, SessionPrompts.System(options, options.LeafSystemPrompt ?? RlmPrompts.Leaf, slice, depth)),
            new(ChatRole.User, slice is null ? query : SessionPrompts.LeafMessage(query, slice)),
        ];
    }

    /// <summary>One plain completion of the worker model (the named one, else the default).</summary>
    private async Task<string> LeafAsync(List<ChatMessage> messages, RlmWorker? worker, RunStep step, CancellationToken cancellationToken)
    {
        var options = _run.Options;
        var response = await _run.Models.SendAsync(worker: true, named: worker, messages, new ChatOptions { ModelId = worker is null ? options.WorkerModelId : worker.ModelId }, _run.Observer.ModelCallAt(step.Node), requireText: true, cancellationToken).ConfigureAwait(false);
        return response.Text.Trim();
    }
}

/// <summary>What makes two sub-calls of a run identical: worker (named or default) and model, depth, query text and slice ([Start, End) of the context; -1 for a prompt without a slice).</summary>
/// <remarks>The depth is part of the key so a session can never wait on the sub-call that is running it.</remarks>
internal readonly record struct SubCallKey(string? Worker, string? Model, int Depth, string Query, int Start, int End);
