using Rlm.Tools.Context;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Compacts a session's conversation when it outgrows <see cref="RlmOptions.MaxConversationChars"/>: in one step, down to
/// <see cref="RlmOptions.CompactionTargetPercent"/> of it, the oldest messages after the system prompt and the task are
/// replaced by a summary written by the session's model (one counted request), and the whole transcript is kept for the
/// model in the variable <c>history</c>. When summaries are off or the summary request fails, the oldest tool results are
/// cut to a note of their length instead (<see cref="ConversationBudget"/>). Nothing else ever rewrites sent messages, so
/// every request between two compactions extends the previous one (providers' prefix caches keep hitting).
/// </summary>
/// <remarks>
/// Hand-written rather than M.E.AI's <see cref="SummarizingChatReducer"/>, whose shape (<see cref="IChatReducer"/>) it
/// keeps: that reducer counts messages, not characters; it leaves every message holding a function call or result out of
/// the text it summarizes (in an RLM session nearly all findings are tool results); it would treat the task (a user
/// message) as history to summarize; and its summary request goes straight to the client, around the run's retry policy,
/// budgets and usage accounting.
/// </remarks>
internal sealed class ConversationCompactor : IChatReducer
{
    /// <summary>The name of the variable holding the full transcript after a compaction.</summary>
    public const string HistoryVariable = "history";

    /// <summary>How the summary message starts.</summary>
    public const string SummaryPrefix = "[compacted]";

    /// <summary>Messages at the start that are never compacted: the system prompt and the task.</summary>
    private const int Protected = 2;

    internal const string SummarizerPrompt =
        "You compact the working memory of an agent that answers a question about a long context it explores with tools " +
        "(grep, peek, sub-calls to worker models, JavaScript). You receive the question and the oldest part of the agent's " +
        "transcript. Write a summary the agent will continue from: every finding with its evidence (exact numbers, names, " +
        "quotes, line numbers and character offsets), the variables it stored, what it tried that failed, and what is left " +
        "to do. Plain text, no preamble.";

    private readonly Func<IReadOnlyList<ChatMessage>, CancellationToken, Task<string>> _summarize;

    /// <param name="maxChars">The size, in characters (<see cref="ConversationBudget.Size"/>), past which the conversation is compacted.</param>
    /// <param name="targetPercent">The size a compaction aims at, in percent of <paramref name="maxChars"/>.</param>
    /// <param name="summarize">Sends a summary request and returns the summary text, or <see langword="null"/> to cut instead of summarizing; it throws when the request failed.</param>
    /// <param name="history">Receives the full transcript (<see cref="Render"/>) whenever a summary replaces messages.</param>
    public ConversationCompactor(int maxChars, int targetPercent, Func<IReadOnlyList<ChatMessage>, CancellationToken, Task<string>>? summarize, Action<string> history)
    {
        MaxChars = maxChars;
        TargetChars = (int)((long)maxChars * targetPercent / 100);
        _summarize = summarize ?? ((_, _) => Task.FromException<string>(new InvalidOperationException("summaries are off")));
        Summaries = summarize is not null;
        History = history;
    }

    public int MaxChars { get; }

    public int TargetChars { get; }

    private bool Summaries { get; }

    private Action<string> History { get; }

    /// <summary>Gets every message of the session in order, summarized or not: what the <c>history</c> variable shows.</summary>
    public List<ChatMessage> Transcript { get; } = [];

    /// <summary>Gets how the last compaction went, for the trace and tests: <see langword="null"/> before any.</summary>
    public string? LastOutcome { get; private set; }

    /// <summary>Gets whether the last compaction was a summary (else a cut).</summary>
    public bool LastSummarized { get; private set; }

    /// <summary>The most characters a summary may have.</summary>
    private int SummaryMaxChars => Math.Clamp(TargetChars / 4, 400, 20_000);

    /// <summary>
    /// Returns <paramref name="messages"/> itself when it fits <see cref="MaxChars"/>, else a compacted copy. The copy keeps
    /// the system prompt, the task and the newest messages whole, and never separates a function call from its result.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<IEnumerable<ChatMessage>> ReduceAsync(IEnumerable<ChatMessage> messages, CancellationToken cancellationToken)
    {
        var list = messages as List<ChatMessage> ?? [.. messages];
        long total = list.Sum(ConversationBudget.Size);
        if (total <= MaxChars)
        {
            return list;
        }

        int keepFrom = Summaries ? SplitPoint(list) : -1;
        if (keepFrom == Protected + 1 && list[Protected].Text.StartsWith(SummaryPrefix, StringComparison.Ordinal))
        {
            keepFrom = -1; // only the previous summary is old enough: summarizing it again would not shrink anything
        }

        if (keepFrom > Protected)
        {
            string? summary = null;
            string? failure = null;
            try
            {
                summary = (await _summarize(SummaryRequest(list, keepFrom), cancellationToken).ConfigureAwait(false)).Trim();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                failure = e.Message;
            }

            if (!string.IsNullOrEmpty(summary))
            {
                string transcript = Render(Transcript);
                History(transcript);
                var compacted = new List<ChatMessage>(list.Count - keepFrom + Protected + 1);
                compacted.AddRange(list.Take(Protected));
                compacted.Add(new ChatMessage(ChatRole.User, SummaryMessage(TextLimits.Cap(summary, SummaryMaxChars), keepFrom - Protected, transcript.Length))
                {
                    RawRepresentation = new SummarizedResults(TypedResults(list.Skip(Protected).Take(keepFrom - Protected))),
                });
                compacted.AddRange(list.Skip(keepFrom));
                LastSummarized = true;
                LastOutcome = string.Create(CultureInfo.InvariantCulture, $"summarized {keepFrom - Protected} messages: {total:N0} → {compacted.Sum(ConversationBudget.Size):N0} characters");
                return compacted;
            }

            LastOutcome = $"the summary request failed ({TextLimits.OneLine(failure ?? "empty summary", 200)}); ";
        }
        else
        {
            LastOutcome = "";
        }

        LastSummarized = false;
        var cut = new List<ChatMessage>(list);
        int elided = ConversationBudget.Trim(cut, MaxChars, TargetChars);
        LastOutcome += string.Create(CultureInfo.InvariantCulture, $"cut {elided} old tool results: {total:N0} → {cut.Sum(ConversationBudget.Size):N0} characters");
        return cut;
    }

    /// <summary>
    /// The first message to keep: the earliest non-tool message (a tool message must follow its calls) whose tail, with the
    /// protected head and a summary, fits <see cref="TargetChars"/>; never later than the newest assistant message, so the
    /// latest iteration stays whole. A value of <see cref="Protected"/> or less means there is nothing to summarize.
    /// </summary>
    private int SplitPoint(List<ChatMessage> list)
    {
        int newest = list.FindLastIndex(m => m.Role == ChatRole.Assistant);
        if (newest <= Protected)
        {
            return -1;
        }

        long budget = TargetChars - SummaryMaxChars - list.Take(Protected).Sum(ConversationBudget.Size);
        long tail = 0;
        int best = newest;
        for (int i = list.Count - 1; i > Protected; i--)
        {
            tail += ConversationBudget.Size(list[i]);
            if (i > newest || list[i].Role == ChatRole.Tool)
            {
                continue;
            }

            if (tail > budget)
            {
                break;
            }

            best = i;
        }

        return best;
    }

    private List<ChatMessage> SummaryRequest(List<ChatMessage> list, int keepFrom) =>
    [
        new(ChatRole.System, SummarizerPrompt),
        new(ChatRole.User, string.Concat(
            "<question_and_task>\n", list[1].Text, "\n</question_and_task>\n\n<transcript>\n",
            Render(list.Skip(Protected).Take(keepFrom - Protected)),
            string.Create(CultureInfo.InvariantCulture, $"</transcript>\n\nSummarize the transcript in at most {SummaryMaxChars:N0} characters."))),
    ];

    private string SummaryMessage(string summary, int messages, int transcriptChars) => string.Create(CultureInfo.InvariantCulture,
        $"{SummaryPrefix} To keep this conversation under {MaxChars:N0} characters, {messages} earlier messages were replaced by the summary below. " +
        $"The full transcript up to this point, every call and result unabridged ({transcriptChars:N0} characters), is in the variable '{HistoryVariable}': " +
        $"read it with get_variable(\"{HistoryVariable}\") or search it in exec_js (get_variable(\"{HistoryVariable}\")).\n<summary>\n{summary}\n</summary>");

    /// <summary>A readable transcript: one block per message, calls with their JSON arguments, results with their call id.</summary>
    internal static string Render(IEnumerable<ChatMessage> messages)
    {
        var text = new StringBuilder();
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent { Text: { Length: > 0 } t }:
                        text.Append('[').Append(message.Role.Value).Append("]\n").Append(t).Append("\n\n");
                        break;
                    case FunctionCallContent call:
                        text.Append("[call ").Append(call.Name).Append(" id=").Append(call.CallId).Append("]\n")
                            .Append(call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions)).Append("\n\n");
                        break;
                    case FunctionResultContent result:
                        text.Append("[result id=").Append(result.CallId).Append("]\n").Append(result.Result?.ToString()).Append("\n\n");
                        break;
                }
            }
        }

        return text.ToString();
    }

    /// <summary>The typed results of <paramref name="messages"/> (and of earlier summaries among them), oldest first.</summary>
    private static List<object> TypedResults(IEnumerable<ChatMessage> messages) =>
        [.. messages.SelectMany(m => m.RawRepresentation is SummarizedResults earlier
            ? earlier.Outputs
            : m.Contents.OfType<FunctionResultContent>().Select(r => r.RawRepresentation).OfType<object>())];
}
