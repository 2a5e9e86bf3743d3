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

    /// <summary><see cref="RlmOptions.MaxIterations"/> ran out; the answer comes from one last call without tools.</summary>
    IterationLimit,

    /// <summary>
    /// A root model request failed for good (see <see cref="RlmModelException"/>). Only seen in
    /// <see cref="RlmModelException.PartialResult"/>: the answer is empty.
    /// </summary>
    ModelFailure,
}
