namespace Rlm.Tools;

/// <summary>
/// A leaf sub-call's slice was over its worker's context window and was split at line breaks into parts that each fit
/// (<see cref="RlmOptions.AutoSplitOversizedSubCalls"/>); the parts follow as sub-calls of their own. Counted in
/// <see cref="RlmStatistics.SplitSubCalls"/>.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The depth the parts run at.</param>
/// <param name="Parts">How many parts the slice was split into.</param>
/// <param name="SliceTokens">Tokens of the whole slice (<c>o200k_base</c>).</param>
/// <param name="LimitTokens">The most tokens a prompt to the worker may have: its window less <see cref="RlmOptions.SubCallOutputReserveTokens"/>.</param>
/// <param name="ModelId">The worker's model id whose window was checked.</param>
public sealed record RlmSubCallSplit(TimeSpan Elapsed, int Depth, int Parts, int SliceTokens, int LimitTokens, string ModelId) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() =>
        Invariant($"sub-call split (depth={Depth}): the slice's {SliceTokens:N0} tokens are over {ModelId}'s limit of {LimitTokens:N0}; {Plural(Parts, "part")} at line breaks");
}
