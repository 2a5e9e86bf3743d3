using System.Globalization;
using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Refuses a batch of sub-calls (several <c>sub_llm</c> calls of one reply, or one <c>llm_query_batched</c>) as a whole,
/// before any of it is sent, when its estimate exceeds what is left of <see cref="RlmOptions.MaxTotalTokens"/> or
/// <see cref="RlmOptions.MaxCostUsd"/>.
/// </summary>
/// <remarks>
/// The estimate, per sub-call that would be sent: a leaf's prompt exactly as it would be sent (system prompt, question and
/// slice), counted with <see cref="TextTokens"/> (<c>o200k_base</c>) plus <see cref="TextTokens.PerMessage"/> per message,
/// plus <see cref="RlmOptions.SubCallOutputReserveTokens"/> for its answer (an upper bound for most answers); a recursive
/// sub-call's first request (system prompt and question; the session's later requests cannot be foreseen, so that is a
/// lower bound) plus the same reserve. The cost prices those input and output tokens with <see cref="RlmOptions.Prices"/>
/// for the worker's model id; with an unpriced worker only the token budget is compared. Sub-calls that would be refused
/// before sending anyway (too deep, too many characters, over the worker's window without
/// <see cref="RlmOptions.AutoSplitOversizedSubCalls"/>) are not counted; with it, a split sub-call counts the whole slice,
/// the fixed part of the prompt once per part, and the reserve once per part. A batch is two or more sub-calls that would be
/// sent; a single sub-call is left to the budget check made before every request. Usage of requests still in flight is
/// not known yet and is not subtracted from what remains.
/// </remarks>
internal static class SubCallBatch
{
    /// <summary>The <c>sub_llm</c> calls among <paramref name="calls"/> as requests (calls whose arguments are unusable fail on their own and are left out).</summary>
    public static List<SubCallRequest> FromCalls(IEnumerable<FunctionCallContent> calls, ContextView view, int depth, RlmOptions options, RlmTraceNode parent)
    {
        var requests = new List<SubCallRequest>();
        foreach (var call in calls)
        {
            if (call.Name != RlmToolSet.SubLlm || call.Exception is not null)
            {
                continue;
            }

            try
            {
                var args = new ToolArguments(call.Arguments);
                string query = args.GetString("query");
                long start = Math.Clamp(args.GetInteger("start"), 0, view.Length);
                long end = Math.Clamp(args.GetInteger("end"), 0, view.Length);
                string? name = args.Has(WorkerChoice.ArgumentName) ? args.GetString(WorkerChoice.ArgumentName) : null;
                if (!string.IsNullOrWhiteSpace(query) && start < end && new WorkerChoice(name).TryResolve(options.Workers, out var worker, out _))
                {
                    requests.Add(new SubCallRequest(query, view.Slice((int)start, (int)end), depth, parent, worker));
                }
            }
            catch (ToolArgumentException)
            {
                // The call itself reports its bad arguments.
            }
        }

        return requests;
    }

    /// <summary>Checks a batch; on refusal reports it (statistics, trace node, <see cref="RlmSubCallBatchRefused"/>) and returns the error every call of the batch gets.</summary>
    /// <param name="run">The query.</param>
    /// <param name="runner">The run's sub-call runner (the prompts and window checks its sub-calls would have).</param>
    /// <param name="requests">The batch.</param>
    /// <param name="parent">Where the refusal's trace node hangs (the reply's model call, or the <c>exec_js</c> call).</param>
    /// <param name="depth">The depth of the session asking.</param>
    /// <returns>The error text, or <see langword="null"/> when the batch may run.</returns>
    public static string? Check(QueryRun run, SubCallRunner runner, IReadOnlyList<SubCallRequest> requests, RlmTraceNode parent, int depth)
    {
        var (tokensLeft, costLeft) = run.Budget.Remaining();
        if (requests.Count < 2 || (tokensLeft is null && costLeft is null))
        {
            return null;
        }

        int reserve = run.Options.SubCallOutputReserveTokens;
        long tokens = 0;
        decimal? cost = 0;
        int sent = 0;
        foreach (var request in requests)
        {
            if (runner.Estimate(request) is not { } estimate)
            {
                continue;
            }

            var (prompt, parts) = estimate;
            sent++;
            long output = (long)reserve * parts;
            tokens += prompt + output;
            cost = run.Options.Prices.Find(runner.ModelIdOf(request) ?? "") is { } price && cost is { } sum
                ? sum + ((prompt * price.InputPerMillion) + (output * price.OutputPerMillion)) / 1_000_000m
                : null;
        }

        bool overTokens = tokensLeft is { } t && tokens > t;
        bool overCost = costLeft is { } c && cost is { } e && e > c;
        if (sent < 2 || !(overTokens || overCost))
        {
            return null;
        }

        string priced = cost is { } usd ? string.Create(CultureInfo.InvariantCulture, $" (about ${usd:0.####})") : "";
        string left = string.Join(" and ", new[]
        {
            tokensLeft is { } tl ? string.Create(CultureInfo.InvariantCulture, $"{tl:N0} tokens") : null,
            costLeft is { } cl ? string.Create(CultureInfo.InvariantCulture, $"${cl:0.####}") : null,
        }.OfType<string>());
        string message = string.Create(CultureInfo.InvariantCulture,
            $"not sent: this batch of {sent} sub-calls is estimated at {tokens:N0} tokens{priced} (each prompt counted with the o200k_base tokenizer, plus {reserve:N0} tokens per sub-call for its answer), more than the {left} left of the run's budget. None of the batch was sent. Send fewer or smaller sub-calls (fewer per reply, smaller slices: chunk with max_tokens), or answer with what you have (final).");
        run.Observer.SubCallBatchRefused(parent, new RlmSubCallBatchRefused(TimeSpan.Zero, depth, sent, tokens, cost, tokensLeft, costLeft), message);
        return message;
    }
}
