namespace Rlm.Tools.Tools;

/// <summary>
/// What a session asks its model, typed: carried as the <see cref="Microsoft.Extensions.AI.ChatMessage.RawRepresentation"/>
/// of the session's first user message, beside its text. Providers send only the text; the offline model reads this.
/// </summary>
/// <param name="Question">The question, as the caller gave it.</param>
/// <param name="ContextChars">The length of the session's view (characters).</param>
/// <param name="ContextLines">The lines of the session's view.</param>
/// <param name="Documents">How many documents the view spans (0 for a plain string context).</param>
internal sealed record SessionTask(string Question, int ContextChars, int ContextLines, int Documents);

/// <summary>
/// The typed tool results a compaction summarized away, carried as the <see cref="Microsoft.Extensions.AI.ChatMessage.RawRepresentation"/>
/// of the summary message (providers send only its text), so a reader of typed results keeps them.
/// </summary>
/// <param name="Outputs">The typed results, oldest first (earlier summaries' included).</param>
internal sealed record SummarizedResults(IReadOnlyList<object> Outputs);
