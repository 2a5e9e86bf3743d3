namespace Rlm.Tools.Tools;

/// <summary>The result of <c>sub_llm</c>: the worker's answer about characters <c>[Start, End)</c>, or why it failed.</summary>
/// <param name="Query">The question the worker was asked.</param>
/// <param name="Start">First character of the slice, 0-based, after clamping.</param>
/// <param name="End">Character after the slice (exclusive), after clamping.</param>
/// <param name="Answer">The worker's answer; <see langword="null"/> when the sub-call failed.</param>
/// <param name="Error">Why the sub-call failed; <see langword="null"/> on success.</param>
/// <param name="Note">What clamping moved, or <see langword="null"/>.</param>
internal sealed record SubLlmResult(string Query, int Start, int End, string? Answer, string? Error, string? Note) : ToolOutput
{
    /// <inheritdoc />
    public override bool IsError => Answer is null;
}
