namespace Rlm.Tools;

/// <summary>Why a run stopped.</summary>
public enum RlmStopReason
{
    /// <summary>The root model called <c>final(answer)</c>.</summary>
    Final,

    /// <summary>The root model called <c>final_var(name)</c>; the answer is that variable's value.</summary>
    FinalVariable,

    /// <summary>The root model replied in plain text twice (once after a nudge to call <c>final</c>); the answer is that text.</summary>
    TextReply,

    /// <summary>
    /// <see cref="RlmOptions.MaxIterations"/> ran out; the answer comes from one last call without tools (its text, or the
    /// <c>answer</c> of a <c>final</c> call when the provider called a tool anyway), else the best answer so far, else empty.
    /// </summary>
    IterationLimit,

    /// <summary>
    /// A root model request failed for good (see <see cref="RlmModelException"/>). Only seen in
    /// <see cref="RlmModelException.PartialResult"/>: the answer is empty.
    /// </summary>
    ModelFailure,

    /// <summary>
    /// <see cref="RlmOptions.MaxTotalTokens"/> was reached; the answer is the best the run had (a last tool-less call when it
    /// fitted), empty when it had none (<see cref="RlmResult.StopMessage"/> says so).
    /// </summary>
    TokenBudget,

    /// <summary><see cref="RlmOptions.MaxCostUsd"/> was reached; the answer is the best the run had.</summary>
    CostBudget,

    /// <summary><see cref="RlmOptions.MaxWallTime"/> was reached; the answer is the best the run had.</summary>
    TimeBudget,

    /// <summary>
    /// <see cref="RlmOptions.MaxConsecutiveErrors"/> iterations in a row had only failing tool calls; the answer comes from one
    /// last tool-less call as for <see cref="IterationLimit"/>.
    /// </summary>
    ErrorLimit,

    /// <summary>
    /// The caller canceled the run. Only seen in the partial result the <c>rlm</c> command reports for a canceled run
    /// (<see cref="RecursiveLanguageModel"/> itself throws <see cref="OperationCanceledException"/>): the answer is empty.
    /// </summary>
    Canceled,

    /// <summary>
    /// The run failed with an unexpected exception (neither <see cref="RlmModelException"/> nor cancellation). Only seen in
    /// the partial result the <c>rlm</c> command reports: the answer is empty.
    /// </summary>
    Error,
}
