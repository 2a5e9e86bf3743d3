namespace Rlm.Tools;

/// <summary>
/// A batch of sub-calls (several <c>sub_llm</c> calls of one reply, or one <c>llm_query_batched</c>) was refused as a
/// whole before any of it was sent: its estimated tokens or cost exceeded what remained of
/// <see cref="RlmOptions.MaxTotalTokens"/> or <see cref="RlmOptions.MaxCostUsd"/>. Each call of the batch got an error
/// result with the estimate. Counted in <see cref="RlmStatistics.RefusedSubCallBatches"/>.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The depth of the session that asked for the batch.</param>
/// <param name="SubCalls">The sub-calls in the batch.</param>
/// <param name="EstimatedTokens">The batch's estimated tokens: each prompt counted with <c>o200k_base</c>, plus <see cref="RlmOptions.SubCallOutputReserveTokens"/> per sub-call for its answer.</param>
/// <param name="EstimatedCostUsd">The estimate priced with <see cref="RlmOptions.Prices"/> in US dollars, or <see langword="null"/> when a worker model has no price.</param>
/// <param name="RemainingTokens">Tokens left of <see cref="RlmOptions.MaxTotalTokens"/>, or <see langword="null"/> without a token budget.</param>
/// <param name="RemainingCostUsd">US dollars left of <see cref="RlmOptions.MaxCostUsd"/>, or <see langword="null"/> without a cost budget.</param>
public sealed record RlmSubCallBatchRefused(TimeSpan Elapsed, int Depth, int SubCalls, long EstimatedTokens, decimal? EstimatedCostUsd, long? RemainingTokens, decimal? RemainingCostUsd) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe()
    {
        string cost = EstimatedCostUsd is { } usd ? Invariant($" (${usd:0.####})") : "";
        string left = string.Join(" and ", new[]
        {
            RemainingTokens is { } tokens ? Invariant($"{tokens:N0} tokens") : null,
            RemainingCostUsd is { } dollars ? Invariant($"${dollars:0.####}") : null,
        }.OfType<string>());
        return Invariant($"sub-call batch refused (depth={Depth}): {Plural(SubCalls, "sub-call")} estimated at {EstimatedTokens:N0} tokens{cost}, only {left} left; none was sent");
    }
}
