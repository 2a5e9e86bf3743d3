using System.Globalization;
using System.Text;
using Rlm.Tools.Context;

namespace Rlm.Tools.Orchestration;

/// <summary>The text a session sends besides tool results: system prompts, the task message, budget lines, a leaf's message.</summary>
internal static class SessionPrompts
{
    /// <summary>Renders a system prompt template with the placeholders of <see cref="RlmPrompts"/>.</summary>
    public static string System(RlmOptions options, string template, ContextView? view, int depth)
    {
        int chars = view?.Length ?? 0;
        return RlmPrompts.Render(template, new Dictionary<string, string>
        {
            ["context_chars"] = chars.ToString("N0", CultureInfo.InvariantCulture),
            ["context_lines"] = (view?.LineCount ?? 0).ToString("N0", CultureInfo.InvariantCulture),
            ["context_documents"] = (view?.DocumentNames().Count ?? 0).ToString("N0", CultureInfo.InvariantCulture),
            ["context_tokens"] = (chars / 4).ToString("N0", CultureInfo.InvariantCulture),
            ["depth"] = depth.ToString(CultureInfo.InvariantCulture),
            ["max_depth"] = options.MaxDepth.ToString(CultureInfo.InvariantCulture),
            ["max_iterations"] = options.MaxIterations.ToString(CultureInfo.InvariantCulture),
            ["max_sub_calls"] = options.MaxSubCalls.ToString(CultureInfo.InvariantCulture),
            ["max_leaf_chars"] = options.MaxLeafChars.ToString("N0", CultureInfo.InvariantCulture),
            ["max_output_chars"] = options.MaxToolOutputChars.ToString("N0", CultureInfo.InvariantCulture),
        });
    }

    /// <summary>The first user message: earlier turns of a conversation, the question, the context's shape and the budget.</summary>
    public static string Task(RlmOptions options, string query, ContextView view, int depth, int subCallsLeft, ConversationState? conversation)
    {
        var text = new StringBuilder();
        if (conversation is not null)
        {
            AppendHistory(text, conversation);
        }

        text.Append("<question>\n").Append(query.Trim()).Append("\n</question>\n\n");
        text.Append(CultureInfo.InvariantCulture, $"The context has {view.Length:N0} characters in {view.LineCount:N0} lines");
        var documents = view.DocumentNames();
        if (documents.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" across {documents.Count:N0} document{(documents.Count == 1 ? "" : "s")}");
        }

        text.Append(CultureInfo.InvariantCulture, $" (about {view.Length / 4:N0} tokens). It is not in this conversation: explore it with the tools.\n");
        text.Append(CultureInfo.InvariantCulture, $"Budget: {options.MaxIterations} iterations; {subCallsLeft} sub-calls left for the whole run; you are at depth {depth} of {options.MaxDepth}.");
        return text.ToString();
    }

    /// <summary>The line appended after each iteration's results: what is left, and a push to answer near the end.</summary>
    public static string BudgetLine(RlmOptions options, int iteration, int subCallsLeft)
    {
        int left = options.MaxIterations - iteration;
        string line = $"[budget] iteration {iteration} of {options.MaxIterations} done: {left} left; {subCallsLeft} sub-calls left.";
        return left switch
        {
            0 => line + " No iterations are left: your next reply must be the final answer.",
            1 => line + " This is your last iteration: call final(answer) now.",
            _ => line,
        };
    }

    /// <summary>Sent when a reply had no function call (once; a second such reply ends the session with its text).</summary>
    public static string Nudge(RlmOptions options, int iteration, int subCallsLeft) =>
        "You replied without calling a tool. The run ends only when you call final(answer) or final_var(name). " +
        "If the text above is your answer, call final with it now; otherwise continue with the tools. " + BudgetLine(options, iteration, subCallsLeft);

    /// <summary>Sent once after a root's final answer whose citations the host could not verify (<see cref="RlmCitationPolicy.Repair"/>).</summary>
    public static string CitationRepair(IReadOnlyList<RlmCitation> failed)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"[citations] The host checked your answer against the context: {failed.Count} citation{(failed.Count == 1 ? "" : "s")} failed:\n");
        foreach (var c in failed)
        {
            text.Append("- ").Append(c.Text);
            if (c.Quote is not null)
            {
                text.Append(" \"").Append(TextLimits.OneLine(c.Quote, 200)).Append('"');
            }

            text.Append(": ").Append(c.Reason).Append('\n');
        }

        text.Append("You have one more reply: call final(answer) again with these citations fixed (the right document:line and the exact quoted text) or dropped. ");
        text.Append("If that reply does not call final, your first answer stands as it is.");
        return text.ToString();
    }

    /// <summary>Sent after a streamed reply was cut once its calls had started.</summary>
    public static string CutShort(string cause) =>
        $"[note] Your last reply was cut off ({cause}) after the calls answered above; anything after them was lost. ";

    /// <summary>The request for a last answer without tools, saying why the tool iterations stopped.</summary>
    public static string LastCall(RlmStopReason stop) =>
        $"Your tool iterations have ended: the {RlmStopReasonText.Describe(stop)} is reached. Tools are now disabled. " +
        "Reply with your best final answer as plain text, using what you have found so far.";

    /// <summary>A leaf's user message: the question and the slice (one copy of the slice: the prompt itself).</summary>
    public static string LeafMessage(string query, ContextView slice) =>
        string.Concat(
            $"<question>\n{query.Trim()}\n</question>\n\n<context characters=\"{slice.Length.ToString(CultureInfo.InvariantCulture)}\">\n",
            slice.Span,
            "\n</context>");

    /// <summary>
    /// Earlier questions and answers of the conversation, the most recent kept first within
    /// <see cref="RlmConversation.MaxHistoryChars"/>; when some do not fit, all of them are in the variable
    /// <see cref="RlmConversation.EarlierTurnsVariable"/>.
    /// </summary>
    private static void AppendHistory(StringBuilder text, ConversationState conversation)
    {
        List<RlmConversationTurn> turns;
        lock (conversation.Turns)
        {
            turns = [.. conversation.Turns];
        }

        if (turns.Count == 0)
        {
            return;
        }

        var kept = new List<string>();
        int chars = 0;
        for (int i = turns.Count - 1; i >= 0; i--)
        {
            string turn = $"Q{i + 1}: {turns[i].Question.Trim()}\nA{i + 1}: {turns[i].Answer.Trim()}\n";
            if (chars + turn.Length > RlmConversation.MaxHistoryChars)
            {
                break;
            }

            kept.Insert(0, turn);
            chars += turn.Length;
        }

        text.Append("<earlier_questions_and_answers>\n");
        if (kept.Count < turns.Count)
        {
            conversation.Variables.Set(RlmConversation.EarlierTurnsVariable, string.Concat(turns.Select((t, i) => $"Q{i + 1}: {t.Question.Trim()}\nA{i + 1}: {t.Answer.Trim()}\n")));
            text.Append(CultureInfo.InvariantCulture, $"({turns.Count - kept.Count} earlier turns omitted here; every question and answer is in the variable '{RlmConversation.EarlierTurnsVariable}')\n");
        }

        text.Append(string.Concat(kept)).Append("</earlier_questions_and_answers>\nVariables and JavaScript globals from those turns are still set.\n\n");
    }
}
