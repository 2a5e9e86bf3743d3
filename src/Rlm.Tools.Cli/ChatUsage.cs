using System.Globalization;
using Microsoft.Extensions.AI;
using Rlm.Tools;

namespace Rlm.Tools.Cli;

/// <summary>
/// What <c>rlm chat</c> says about spending: the status line after each turn and <c>/usage</c>, for the current
/// conversation and, after a <c>/reset</c>, for the whole session (the conversation's own totals start again at each reset).
/// </summary>
/// <param name="isOffline">Whether the models are the offline model (no cost at all).</param>
/// <param name="unpricedModel">A model id used without a price, or null when every model is priced.</param>
internal sealed class ChatUsage(bool isOffline, string? unpricedModel)
{
    private readonly Lock _lock = new();
    private readonly UsageDetails _sessionUsage = new();
    private decimal? _sessionCost = 0;
    private int _sessionTurns;
    private int _resets;

    /// <summary>Counts a turn's spending in the session's totals.</summary>
    public void AddTurn(RlmResult result)
    {
        lock (_lock)
        {
            _sessionTurns++;
            Add(result.Usage, result.CostUsd);
        }
    }

    /// <summary>Counts what a failed question spent: not a turn, but its tokens were spent (as <see cref="RlmConversation.Usage"/> counts them).</summary>
    public void AddFailed(RlmResult partial)
    {
        lock (_lock)
        {
            Add(partial.Usage, partial.CostUsd);
        }
    }

    /// <summary>Notes a <c>/reset</c>: from now on <c>/usage</c> also reports the session's totals.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _resets++;
        }
    }

    /// <summary>The line after a turn: iterations, sub-calls, tokens, cost and time.</summary>
    public string StatusLine(int turn, RlmResult result)
    {
        var s = result.Statistics;
        string subCalls = s.SubCalls > 0 ? Invariant($", {Count(s.SubCalls, "sub-call")}") : string.Empty;
        return Invariant($"turn {turn}: {Count(s.Iterations, "iteration")}{subCalls}, {TokensText(result.Usage)}{CostText(result.CostUsd)}, {s.WallTime.TotalSeconds:0.0} s");
    }

    /// <summary>The <c>/usage</c> line.</summary>
    public string UsageLine(RlmConversation conversation)
    {
        // No turn yet (a new chat, or just after /reset) costs nothing only when the models have a price.
        decimal? cost = conversation.Turns.Count == 0 && unpricedModel is not null ? null : conversation.CostUsd;
        string current = Invariant($"{Count(conversation.Turns.Count, "turn")}, {TokensText(conversation.Usage)}{CostText(cost)}");
        lock (_lock)
        {
            return _resets == 0
                ? $"usage: {current}"
                : Invariant($"usage: this conversation {current}; since start ({Count(_resets, "reset")}) {Count(_sessionTurns, "turn")}, {TokensText(_sessionUsage)}{CostText(_sessionTurns == 0 && unpricedModel is not null ? null : _sessionCost)}");
        }
    }

    private void Add(UsageDetails usage, decimal? cost)
    {
        _sessionUsage.Add(usage);
        _sessionCost = _sessionCost is { } sum && cost is { } more ? sum + more : null;
    }

    private static string TokensText(UsageDetails usage)
    {
        long input = usage.InputTokenCount ?? 0;
        long output = usage.OutputTokenCount ?? 0;
        return Invariant($"{Count(input + output, "token")} ({input:N0} in / {output:N0} out)");
    }

    private string CostText(decimal? cost) => cost is { } usd
        ? Invariant($", cost ${usd:0.0000}")
        : isOffline ? ", no cost (offline model)"
        : unpricedModel is { } model ? $", cost unknown (model '{model}' has no price)" : ", cost unknown (a model has no price)";

    private static string Count(long n, string noun) => Invariant($"{n:N0} {noun}{(n == 1 ? "" : "s")}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
