using System.Diagnostics.CodeAnalysis;

namespace Rlm.Tools;

/// <summary>
/// The one table that turns a <see cref="RlmStopReason"/> into text: its name in JSON (<c>rlm --json</c>, trajectories),
/// telemetry and tool answers; a short phrase for progress lines; and the note for an answer that is not final.
/// </summary>
public static class RlmStopReasonText
{
    // name, phrase, why there is no final answer, what the answer is then (null: the answer is final).
    private static readonly Row[] s_rows =
    [
        new(RlmStopReason.Final, "final", "final answer", null, null),
        new(RlmStopReason.FinalVariable, "final_var", "final answer from a variable", null, null),
        new(RlmStopReason.TextReply, "text_reply", "plain-text reply", "the model replied in plain text instead of calling final", "that text"),
        new(RlmStopReason.IterationLimit, "iteration_limit", "iteration limit", "the model used all its iterations", "its last reply"),
        new(RlmStopReason.ModelFailure, "model_failure", "model failure", "a root model request failed for good", "empty"),
        new(RlmStopReason.TokenBudget, "token_budget", "token budget", "the run's token budget was spent", "the best answer the run had"),
        new(RlmStopReason.CostBudget, "cost_budget", "cost budget", "the run's cost budget was spent", "the best answer the run had"),
        new(RlmStopReason.TimeBudget, "time_budget", "time budget", "the run's time budget was spent", "the best answer the run had"),
        new(RlmStopReason.ErrorLimit, "error_limit", "consecutive-error limit", "too many iterations in a row ended in tool errors", "the model's last reply"),
        new(RlmStopReason.Canceled, "canceled", "cancellation", "the run was canceled", "empty"),
        new(RlmStopReason.Error, "error", "error", "the run failed with an unexpected error", "empty"),
    ];

    /// <summary>Gets the name of a stop reason as JSON, telemetry and tool answers write it.</summary>
    /// <param name="reason">The stop reason.</param>
    /// <returns>snake_case: <c>final</c>, <c>final_var</c>, <c>text_reply</c>, <c>iteration_limit</c>, <c>model_failure</c>,
    /// <c>token_budget</c>, <c>cost_budget</c>, <c>time_budget</c>, <c>error_limit</c>, <c>canceled</c> or <c>error</c>; a value
    /// outside the enum gives its number.</returns>
    public static string GetName(RlmStopReason reason) => Find(reason)?.Name ?? ((int)reason).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Finds the stop reason of a name written by <see cref="GetName(RlmStopReason)"/>.</summary>
    /// <param name="name">The name (case-sensitive).</param>
    /// <param name="reason">The stop reason, when the name is known.</param>
    /// <returns>Whether <paramref name="name"/> is a known name.</returns>
    public static bool TryParse([NotNullWhen(true)] string? name, out RlmStopReason reason)
    {
        foreach (var row in s_rows)
        {
            if (string.Equals(row.Name, name, StringComparison.Ordinal))
            {
                reason = row.Reason;
                return true;
            }
        }

        reason = default;
        return false;
    }

    /// <summary>Gets a short phrase for a stop reason, as progress lines show it, for example <c>iteration limit</c>.</summary>
    /// <param name="reason">The stop reason.</param>
    /// <returns>A few lower-case words.</returns>
    public static string Describe(RlmStopReason reason) => Find(reason)?.Phrase ?? reason.ToString();

    /// <summary>
    /// Gets the note for a run whose answer is not final, for example <c>no final answer: the model used all its iterations;
    /// the answer is its last reply</c> (no final period).
    /// </summary>
    /// <param name="reason">The stop reason.</param>
    /// <param name="includeWhy">Whether the note says why the run stopped; <see langword="false"/> when the caller says it
    /// in more detail (a budget's amounts): <c>no final answer: the answer is the best answer the run had</c>.</param>
    /// <returns>The note, or <see langword="null"/> when the reason gives a final answer (<see cref="RlmResult.IsFinal"/>).</returns>
    public static string? DescribeNoFinalAnswer(RlmStopReason reason, bool includeWhy = true) => Find(reason) switch
    {
        { Why: { } why, Answer: { } answer } => includeWhy ? $"no final answer: {why}; the answer is {answer}" : $"no final answer: the answer is {answer}",
        _ => null,
    };

    /// <summary>
    /// Gets the sentence that says why a run stopped without a final answer (<see cref="RlmResult.StopMessage"/>), for example
    /// <c>No final answer: the model used all its iterations; the answer is its last reply.</c>, or
    /// <c>The run stopped without an answer: the run's token budget was spent.</c> when there is no answer at all.
    /// </summary>
    /// <param name="reason">The stop reason.</param>
    /// <param name="hasAnswer">Whether the run has a (non-final) answer to show.</param>
    /// <returns>One sentence, or <see langword="null"/> when the reason gives a final answer.</returns>
    public static string? DescribeStop(RlmStopReason reason, bool hasAnswer) => Find(reason) switch
    {
        { Why: { } why, Answer: { } answer } => hasAnswer
            ? $"No final answer: {why}; the answer is {answer}."
            : $"The run stopped without an answer: {why}.",
        null => $"No final answer ({GetName(reason)}).",
        _ => null,
    };

    private static Row? Find(RlmStopReason reason) => Array.Find(s_rows, r => r.Reason == reason);

    private sealed record Row(RlmStopReason Reason, string Name, string Phrase, string? Why, string? Answer);
}
