using Microsoft.Extensions.AI;

namespace Rlm.Tools;

/// <summary>The outcome of <see cref="RecursiveLanguageModel.QueryAsync(string, string, CancellationToken)"/>.</summary>
public sealed class RlmResult
{
    /// <summary>
    /// Gets the answer: the model's final answer or, for a run without one, the best answer it had (its last reply); empty
    /// when the run had none. Never a note about the run: <see cref="StopReason"/> and <see cref="StopMessage"/> say why it stopped.
    /// </summary>
    public required string Answer { get; init; }

    /// <summary>Gets why the run stopped.</summary>
    public required RlmStopReason StopReason { get; init; }

    /// <summary>
    /// Gets one plain sentence saying why the run stopped without a final answer, for example <c>The run stopped without an
    /// answer: the run's token budget was spent.</c> (the texts of <see cref="RlmStopReasonText.DescribeStop"/>; for a
    /// <see cref="RlmStopReason.ModelFailure"/>, the failure). <see langword="null"/> when <see cref="IsFinal"/>.
    /// </summary>
    public string? StopMessage { get; init; }

    /// <summary>Gets whether the model itself ended the run with <c>final</c> or <c>final_var</c>.</summary>
    public bool IsFinal => StopReason is RlmStopReason.Final or RlmStopReason.FinalVariable;

    /// <summary>
    /// Gets whether sub-calls were made and every one of them failed: the answer then rests on no worker result, whatever
    /// <see cref="StopReason"/> says. The <c>rlm</c> command exits non-zero.
    /// </summary>
    public bool AllSubCallsFailed => Statistics.SubCalls > 0 && Statistics.FailedSubCalls >= Statistics.SubCalls;

    /// <summary>
    /// Gets what the run cost in US dollars, priced by <see cref="RlmOptions.Prices"/> per model id; <see langword="null"/>
    /// when a model that was used has no price.
    /// </summary>
    public decimal? CostUsd { get; init; }

    /// <summary>The model ids used without a price in <see cref="RlmOptions.Prices"/> (why <see cref="CostUsd"/> is null); for the JSON's <c>cost_note</c>.</summary>
    internal IReadOnlyList<string> UnpricedModels { get; init; } = [];

    /// <summary>Gets token usage summed over every model call at every depth.</summary>
    public required UsageDetails Usage { get; init; }

    /// <summary>Gets token usage per model id (the id the response reported, else the id requested, else <c>root</c>/<c>worker</c>).</summary>
    public required IReadOnlyDictionary<string, UsageDetails> UsageByModel { get; init; }

    /// <summary>Gets the run's counts.</summary>
    public required RlmStatistics Statistics { get; init; }

    /// <summary>
    /// Gets the citations of a final answer as the host checked them against the context, in the order they appear in
    /// <see cref="Answer"/>; empty when the answer cites nothing, the run had no final answer, or
    /// <see cref="RlmOptions.CitationPolicy"/> is <see cref="RlmCitationPolicy.Off"/>.
    /// </summary>
    public IReadOnlyList<RlmCitation> Citations { get; init; } = [];

    /// <summary>Gets the trajectory: the root session's node, with its model calls, tool calls and sub-call sessions below.</summary>
    public required RlmTraceNode Trajectory { get; init; }
}
