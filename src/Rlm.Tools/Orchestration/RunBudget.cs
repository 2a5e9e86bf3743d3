using Microsoft.Extensions.AI;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// What one run may spend, and what it has spent: sub-calls (reserved before dispatch, so parallel calls can never all
/// pass a check only one should pass), tokens, cost and wall time (<see cref="RlmOptions.MaxSubCalls"/>,
/// <see cref="RlmOptions.MaxTotalTokens"/>, <see cref="RlmOptions.MaxCostUsd"/>, <see cref="RlmOptions.MaxWallTime"/>),
/// and the usage per model that the cost is priced from.
/// </summary>
internal sealed class RunBudget
{
    private readonly RlmOptions _options;
    private readonly RunObserver _observer;
    private readonly Dictionary<string, UsageDetails> _usageByModel = new(StringComparer.Ordinal);
    private readonly UsageDetails _usage = new();
    private long _totalTokens;
    private int _subCallsReserved;
    private object? _stopped;
    private int _softWarned;

    public RunBudget(RlmOptions options, RunObserver observer)
    {
        _options = options;
        _observer = observer;
    }

    /// <summary>Gets whether a token, cost or time budget is set (otherwise no request needs a check).</summary>
    public bool HasLimits => _options.MaxTotalTokens is not null || _options.MaxCostUsd is not null || _options.MaxWallTime is not null;

    /// <summary>Gets the sub-calls still available to reserve.</summary>
    public int SubCallsLeft => Math.Max(0, _options.MaxSubCalls - Volatile.Read(ref _subCallsReserved));

    /// <summary>Reserves one sub-call before dispatch; <see langword="false"/> when <see cref="RlmOptions.MaxSubCalls"/> are spent.</summary>
    public bool TryReserveSubCall()
    {
        while (true)
        {
            int current = Volatile.Read(ref _subCallsReserved);
            if (current >= _options.MaxSubCalls)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _subCallsReserved, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Throws <see cref="RlmBudgetExceededException"/> when a budget is spent: no request may be sent.</summary>
    public void Check()
    {
        if (Reached(soft: false) is { } reason)
        {
            throw new RlmBudgetExceededException(reason, Message(reason));
        }
    }

    /// <summary>
    /// The budget that is spent (<paramref name="soft"/>: 90% of a token or cost budget, so a session stops its tool
    /// iterations with room for a last answer), or <see langword="null"/>. Once spent, a budget stays spent.
    /// </summary>
    public RlmStopReason? Reached(bool soft)
    {
        if (Volatile.Read(ref _stopped) is { } stopped)
        {
            return (RlmStopReason)stopped;
        }

        decimal factor = soft ? 0.9m : 1m;
        RlmStopReason? reason = null;
        if (_options.MaxWallTime is { } wall && _observer.Elapsed >= wall)
        {
            reason = RlmStopReason.TimeBudget;
        }
        else if (_options.MaxTotalTokens is { } tokens && Interlocked.Read(ref _totalTokens) >= tokens * factor)
        {
            reason = RlmStopReason.TokenBudget;
        }
        else if (_options.MaxCostUsd is { } cost && CurrentCost() >= cost * factor)
        {
            reason = RlmStopReason.CostBudget;
        }

        if (reason is { } r && !soft)
        {
            Interlocked.CompareExchange(ref _stopped, (int)r, null);
            _observer.Emit(new RlmBudgetWarning(_observer.Elapsed, 0, $"{Message(r)} No further model requests are sent."));
        }
        else if (reason is not null && soft && Interlocked.Exchange(ref _softWarned, 1) == 0)
        {
            _observer.Emit(new RlmBudgetWarning(_observer.Elapsed, 0, "90% of a budget is spent: the run is finishing."));
        }

        return reason;
    }

    /// <summary>Whether a last call of about <paramref name="estimatedInputTokens"/> fits in what is left of the token and cost budgets.</summary>
    public bool FitsLastCall(string? modelId, int estimatedInputTokens)
    {
        if (_options.MaxTotalTokens is { } tokens && Interlocked.Read(ref _totalTokens) + estimatedInputTokens > tokens)
        {
            return false;
        }

        if (_options.MaxCostUsd is { } cost)
        {
            decimal price = _options.Prices.Find(modelId ?? "")?.InputPerMillion ?? 0;
            return CurrentCost() + (estimatedInputTokens * price / 1_000_000m) <= cost;
        }

        return true;
    }

    /// <summary>What is left of the token and cost budgets now (<see langword="null"/>: that budget is not set); never below 0.</summary>
    public (long? Tokens, decimal? CostUsd) Remaining() =>
        (_options.MaxTotalTokens is { } tokens ? Math.Max(0, tokens - Interlocked.Read(ref _totalTokens)) : null,
         _options.MaxCostUsd is { } cost ? Math.Max(0, cost - CurrentCost()) : null);

    /// <summary>Adds a response's usage to the run's total and to its model's.</summary>
    public void AddUsage(string model, UsageDetails? usage)
    {
        if (usage is null)
        {
            return;
        }

        Interlocked.Add(ref _totalTokens, (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0));
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

    /// <summary>Copies of the usage so far: in total and per model.</summary>
    public (UsageDetails Total, Dictionary<string, UsageDetails> ByModel) Usage()
    {
        lock (_usageByModel)
        {
            var total = new UsageDetails();
            total.Add(_usage);
            return (total, new Dictionary<string, UsageDetails>(_usageByModel, StringComparer.Ordinal));
        }
    }

    private string Message(RlmStopReason reason) => reason switch
    {
        RlmStopReason.TimeBudget => $"The run's time budget of {_options.MaxWallTime!.Value.TotalSeconds:0.###} s is spent.",
        RlmStopReason.TokenBudget => $"The run's token budget of {_options.MaxTotalTokens:N0} tokens is spent ({Interlocked.Read(ref _totalTokens):N0} used).",
        RlmStopReason.CostBudget => $"The run's cost budget of ${_options.MaxCostUsd:0.####} is spent (${CurrentCost():0.####} used).",
        _ => "A budget is spent.",
    };

    /// <summary>The cost so far of the models that have a price.</summary>
    private decimal CurrentCost()
    {
        lock (_usageByModel)
        {
            decimal total = 0;
            foreach (var (model, usage) in _usageByModel)
            {
                total += _options.Prices.Cost(model, usage) ?? 0;
            }

            return total;
        }
    }
}

/// <summary>A budget of <see cref="RlmOptions"/> is spent: no model request may be sent. Handled inside the engine.</summary>
internal sealed class RlmBudgetExceededException(RlmStopReason reason, string message) : Exception(message)
{
    public RlmStopReason Reason { get; } = reason;
}
