using Microsoft.Extensions.AI;

namespace Rlm.Tools;

/// <summary>
/// What an <see cref="RlmConversation"/> carries from one question to the next, as plain data that serializes with
/// System.Text.Json: the earlier questions and answers, the variables (<c>set_variable</c>), and the usage and cost so far.
/// A conversation made from a snapshot (<see cref="RlmConversation(RecursiveLanguageModel, RlmCorpus, RlmConversationSnapshot)"/>)
/// continues where the snapshot's left off, in this process or another one. JavaScript globals are not part of it: they
/// live in the engine of the process that made them (a script that needs a value in a later question keeps it in a variable).
/// </summary>
public sealed class RlmConversationSnapshot
{
    /// <summary>Gets the questions asked so far and their answers, oldest first.</summary>
    public IReadOnlyList<RlmConversationTurn> Turns { get; init; } = [];

    /// <summary>Gets the conversation's variables by name (ordinal).</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets the usage of every question so far, summed (as <see cref="RlmConversation.Usage"/>).</summary>
    public UsageDetails Usage { get; init; } = new();

    /// <summary>Gets the cost in USD so far (as <see cref="RlmConversation.CostUsd"/>); <see langword="null"/> when a model used has no price.</summary>
    public decimal? CostUsd { get; init; }
}
