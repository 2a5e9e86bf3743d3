namespace Rlm.Tools;

// Splitting a sub-call's slice that is over its worker's context window (kept apart: one concern, one file).
public sealed partial class RlmOptions
{
    /// <summary>
    /// Gets or sets whether a leaf <c>sub_llm</c> whose prompt is over the worker's context window
    /// (<see cref="ModelContextWindows"/> less <see cref="SubCallOutputReserveTokens"/>) is split instead of refused.
    /// </summary>
    /// <remarks>
    /// <para>The slice is cut at line breaks into consecutive parts that each fit, counted with the same <c>o200k_base</c>
    /// tokenizer as the check (a single line longer than the limit is cut inside the line, at the last character index
    /// whose start still fits). Each part is one sub-call to the same worker (the named one, if the call chose one) through the
    /// same path as any other: it is checked against the window again (none over it is ever sent; the parts are sized with a
    /// margin for the prompt's own text, and a part that still did not fit would be split in turn), uses one sub-call of <see cref="MaxSubCalls"/>, respects <see cref="MaxConcurrency"/>, the
    /// budgets and <see cref="MemoizeSubCalls"/>, and the parts run in parallel. A split that would need more parts than
    /// sub-calls are left is refused with the number of parts.</para>
    /// <para>Combining rule: the tool result starts with one line saying the slice was split and into how many parts, then
    /// gives each part's answer in document order, each on its own paragraph prefixed by its part number and 1-based line
    /// range in the context, for example <c>[part 1/3, lines 1–4,210]</c> (in a corpus of documents followed by the range
    /// as citations name it: <c>[part 1/3, lines 2–4,211, app.log:1–4,210]</c>); a part that failed appears in its place as
    /// <c>[part 2/3, lines 4,211–8,400] failed: …</c> with the reason. The sub-call fails only when every part failed.
    /// Counted in <see cref="RlmStatistics.SplitSubCalls"/> and announced by <see cref="RlmSubCallSplit"/>.</para>
    /// <para>A prompt without a slice (JavaScript's <c>llm_query</c>) is not split: one that does not fit stays an error.</para>
    /// </remarks>
    /// <value>The default value is <see langword="false"/>: an oversized slice is refused with the largest size that fits.</value>
    public bool AutoSplitOversizedSubCalls { get; set; }
}
