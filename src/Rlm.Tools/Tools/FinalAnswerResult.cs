namespace Rlm.Tools.Tools;

/// <summary>The result of <c>final</c> or <c>final_var</c>: the answer that ends the session.</summary>
/// <param name="Answer">The answer.</param>
/// <param name="Variable">The variable it came from (<c>final_var</c>), or <see langword="null"/> (<c>final</c>).</param>
internal sealed record FinalAnswerResult(string Answer, string? Variable) : ToolOutput
{
    /// <summary>Gets why the session stops.</summary>
    public RlmStopReason StopReason => Variable is null ? RlmStopReason.Final : RlmStopReason.FinalVariable;
}
