namespace Rlm.Tools.Cli;

/// <summary>The run limits and budgets <c>rlm</c>, <c>rlm chat</c> and <c>rlm mcp</c> share, checked the same way for all three.</summary>
internal static class CliLimits
{
    /// <summary>The longest <c>--max-time</c>, in seconds: 365 days (a bound well inside <see cref="TimeSpan"/>).</summary>
    public const double MaxTimeSeconds = 365 * 24 * 3600;

    /// <summary>
    /// Reads and checks the per-run limits <c>rlm chat</c> and <c>rlm mcp</c> share (iterations, depth, concurrency,
    /// <c>--timeout</c>) into new <see cref="RlmOptions"/>, and the budgets; a <see cref="CliUsageException"/> names a bad one.
    /// </summary>
    public static (RlmOptions Options, CliBudgets Budgets) ReadRunOptions(System.CommandLine.ParseResult parseResult,
        System.CommandLine.Option<int> maxIterations, System.CommandLine.Option<int> maxDepth, System.CommandLine.Option<int> maxConcurrency,
        System.CommandLine.Option<double> timeout, System.CommandLine.Option<long> maxTokens, System.CommandLine.Option<decimal> maxCost,
        System.CommandLine.Option<double> maxTime)
    {
        int iterations = parseResult.GetValue(maxIterations), depth = parseResult.GetValue(maxDepth), concurrency = parseResult.GetValue(maxConcurrency);
        Validate(iterations, depth, concurrency); // before RlmOptions' own setters can throw
        var options = new RlmOptions { MaxIterations = iterations, MaxDepth = depth, MaxConcurrency = concurrency };
        if (ReadTimeout(parseResult, timeout) is { } requestTimeout)
        {
            options.ModelRequestTimeout = requestTimeout;
        }

        return (options, ReadBudgets(parseResult, maxTokens, maxCost, maxTime));
    }

    /// <summary>
    /// Reads <c>--max-tokens N</c>, <c>--max-cost USD</c> and <c>--max-time SECONDS</c> (each absent: no budget). Throws a
    /// <see cref="CliUsageException"/> naming the option when a value is not positive (or, for <c>--max-time</c>, outside
    /// 0.001 to <see cref="MaxTimeSeconds"/> seconds). Prices are checked later, once the models are known
    /// (<see cref="CliBudgets.ApplyTo"/>).
    /// </summary>
    public static CliBudgets ReadBudgets(System.CommandLine.ParseResult parseResult, System.CommandLine.Option<long> maxTokens,
        System.CommandLine.Option<decimal> maxCost, System.CommandLine.Option<double> maxTime)
    {
        long? tokens = null;
        if (parseResult.GetResult(maxTokens) is not null)
        {
            tokens = parseResult.GetValue(maxTokens);
            if (tokens < 1)
            {
                throw new CliUsageException(Invariant($"--max-tokens must be a positive whole number of tokens (got {tokens})"));
            }
        }

        decimal? cost = null;
        if (parseResult.GetResult(maxCost) is not null)
        {
            cost = parseResult.GetValue(maxCost);
            if (cost <= 0)
            {
                throw new CliUsageException(Invariant($"--max-cost must be a positive number of US dollars, e.g. 0.50 (got {cost})"));
            }
        }

        TimeSpan? time = null;
        if (parseResult.GetResult(maxTime) is not null)
        {
            double seconds = parseResult.GetValue(maxTime);
            if (!double.IsFinite(seconds) || seconds < 0.001 || seconds > MaxTimeSeconds)
            {
                throw new CliUsageException(Invariant($"--max-time must be a positive number of seconds from 0.001 to {MaxTimeSeconds:0} (got {seconds})"));
            }

            time = TimeSpan.FromSeconds(seconds);
        }

        return new CliBudgets(tokens, cost, time);
    }

    /// <summary>
    /// Parses the <c>--max-cost</c> value as an invariant-culture decimal (<c>0.50</c> on every machine, whatever its
    /// locale; no thousands separators, so <c>1,5</c> is refused rather than read as 15); a value that is no number is a
    /// parse error naming the option.
    /// </summary>
    public static decimal ParseUsd(System.CommandLine.Parsing.ArgumentResult result)
    {
        string token = Token(result);
        if (decimal.TryParse(token, PlainNumber, System.Globalization.CultureInfo.InvariantCulture, out decimal usd))
        {
            return usd;
        }

        result.AddError($"--max-cost must be a positive number of US dollars, e.g. 0.50 (got '{token}')");
        return 0;
    }

    /// <summary>Parses the <c>--max-tokens</c> value (a whole number); anything else is a parse error naming the option.</summary>
    public static long ParseTokens(System.CommandLine.Parsing.ArgumentResult result)
    {
        string token = Token(result);
        if (long.TryParse(token, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long tokens))
        {
            return tokens;
        }

        result.AddError($"--max-tokens must be a positive whole number of tokens (got '{token}')");
        return 0;
    }

    /// <summary>Parses the <c>--max-time</c> value as invariant-culture seconds; anything else is a parse error naming the option.</summary>
    public static double ParseSeconds(System.CommandLine.Parsing.ArgumentResult result)
    {
        string token = Token(result);
        if (double.TryParse(token, PlainNumber | System.Globalization.NumberStyles.AllowExponent, System.Globalization.CultureInfo.InvariantCulture, out double seconds))
        {
            return seconds;
        }

        result.AddError(Invariant($"--max-time must be a positive number of seconds from 0.001 to {MaxTimeSeconds:0} (got '{token}')"));
        return 0;
    }

    private const System.Globalization.NumberStyles PlainNumber =
        System.Globalization.NumberStyles.AllowLeadingWhite | System.Globalization.NumberStyles.AllowTrailingWhite
        | System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint;

    private static string Token(System.CommandLine.Parsing.ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;

    /// <summary>
    /// The one-line note for a run stopped by a budget, e.g. <c>stopped: token budget of 5,000 tokens spent (5,210 used)</c>,
    /// or <see langword="null"/> when <paramref name="result"/> did not stop on a budget.
    /// </summary>
    public static string? DescribeBudgetStop(RlmResult result, RlmOptions options)
    {
        long used = (result.Usage.InputTokenCount ?? 0) + (result.Usage.OutputTokenCount ?? 0);
        return result.StopReason switch
        {
            RlmStopReason.TokenBudget => Invariant($"stopped: token budget of {options.MaxTotalTokens:N0} tokens spent ({used:N0} used)"),
            RlmStopReason.CostBudget => Invariant($"stopped: cost budget of ${options.MaxCostUsd:0.00##} spent ({(result.CostUsd is { } cost ? $"${cost:0.0000} used" : "cost of some models unknown")})"),
            RlmStopReason.TimeBudget => Invariant($"stopped: time budget of {options.MaxWallTime?.TotalSeconds:0.###} s spent ({result.Statistics.WallTime.TotalSeconds:0.0} s elapsed)"),
            _ => null,
        };
    }

    /// <summary>
    /// With a cost budget: a note naming the model ids the endpoint reported that have no price (their tokens did not count
    /// against the budget: the engine prices usage by the model id each response reports), or <see langword="null"/>.
    /// </summary>
    public static string? DescribeUnpricedModels(RlmResult result, RlmOptions options)
    {
        if (options.MaxCostUsd is null)
        {
            return null;
        }

        var unpriced = result.UsageByModel.Keys.Where(model => options.Prices.Find(model) is null).Order(StringComparer.Ordinal).ToList();
        return unpriced.Count == 0 ? null
            : $"--max-cost: the endpoint reported model id{(unpriced.Count == 1 ? "" : "s")} {string.Join(", ", unpriced.Select(m => $"'{m}'"))} with no known price: {(unpriced.Count == 1 ? "its" : "their")} tokens did not count against the cost budget";
    }

    private static string Invariant(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads <c>--timeout SECONDS</c> (one model request attempt, <see cref="RlmOptions.ModelRequestTimeout"/>):
    /// <see langword="null"/> when absent; a <see cref="CliUsageException"/> outside 0.01 to 86,400 seconds.
    /// </summary>
    public static TimeSpan? ReadTimeout(System.CommandLine.ParseResult parseResult, System.CommandLine.Option<double> option)
    {
        if (parseResult.GetResult(option) is null)
        {
            return null;
        }

        double seconds = parseResult.GetValue(option);
        if (!double.IsFinite(seconds) || seconds < 0.01 || seconds > TimeSpan.FromDays(1).TotalSeconds)
        {
            throw new CliUsageException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--timeout must be a number of seconds from 0.01 to 86400 (got {seconds})"));
        }

        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Throws a <see cref="CliUsageException"/> naming the option when a limit is out of range.</summary>
    public static void Validate(int maxIterations, int maxDepth, int maxConcurrency)
    {
        if (maxIterations < 1)
        {
            throw new CliUsageException($"--max-iterations must be at least 1 (got {maxIterations})");
        }

        if (maxDepth is < 1 or > 8)
        {
            throw new CliUsageException($"--max-depth must be between 1 and 8 (got {maxDepth})");
        }

        if (maxConcurrency < 1)
        {
            throw new CliUsageException($"--max-concurrency must be at least 1 (got {maxConcurrency})");
        }
    }
}

/// <summary>The run budgets read from <c>--max-tokens</c>, <c>--max-cost</c> and <c>--max-time</c> (<see langword="null"/>: none).</summary>
/// <param name="MaxTokens">Total tokens of a run (input plus output of every model call).</param>
/// <param name="MaxCostUsd">Cost of a run in US dollars.</param>
/// <param name="MaxWallTime">Wall time of a run.</param>
internal sealed record CliBudgets(long? MaxTokens, decimal? MaxCostUsd, TimeSpan? MaxWallTime)
{
    /// <summary>
    /// Sets the budgets on <paramref name="options"/> (whose <see cref="RlmOptions.RootModelId"/> and
    /// <see cref="RlmOptions.WorkerModelId"/> are set). With a cost budget, a root or worker model without a price in
    /// <see cref="RlmOptions.Prices"/> is a <see cref="CliUsageException"/>: the engine counts an unpriced model as free, so
    /// the budget could never bind.
    /// </summary>
    public void ApplyTo(RlmOptions options)
    {
        if (MaxCostUsd is not null)
        {
            string root = options.RootModelId ?? string.Empty;
            string worker = options.WorkerModelId ?? root;
            string? unpriced = options.Prices.Find(root) is null ? root : options.Prices.Find(worker) is null ? worker : null;
            if (unpriced == OfflineChatClient.ModelId)
            {
                throw new CliUsageException($"--max-cost cannot bound the offline model ({OfflineChatClient.ModelId} has no price: it costs nothing); use --max-tokens instead");
            }

            if (unpriced is not null)
            {
                string which = string.Equals(root, worker, StringComparison.Ordinal) ? "the model" : unpriced == root ? "the root model" : "the worker model";
                throw new CliUsageException(
                    $"--max-cost needs a price for every model in use, and {which} '{unpriced}' has none (prices are known for " +
                    $"{string.Join(", ", options.Prices.ModelIds)} and ids starting with them); use --max-tokens instead");
            }
        }

        options.MaxTotalTokens = MaxTokens;
        options.MaxCostUsd = MaxCostUsd;
        options.MaxWallTime = MaxWallTime;
    }
}
