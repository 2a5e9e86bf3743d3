using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// The cut that <see cref="ConversationCompactor"/> falls back on when summaries are off or fail: once a conversation is
/// past <see cref="RlmOptions.MaxConversationChars"/>, the oldest tool results are replaced, one by one, with a note of their
/// length, until it is down to the target size (in one step, so the following requests extend an unchanged prefix again).
/// The latest tool message (the results the model is about to read) and every other message are left whole.
/// </summary>
internal static class ConversationBudget
{
    /// <summary>Text that replaces an elided tool result.</summary>
    internal const string ElidedPrefix = "[elided: an older result of ";

    /// <summary>
    /// Trims <paramref name="messages"/> when it holds more than <paramref name="maxChars"/> characters, down to
    /// <paramref name="targetChars"/> (default: <paramref name="maxChars"/>), replacing (never editing) the tool messages it
    /// shortens; returns how many results were elided.
    /// </summary>
    public static int Trim(List<ChatMessage> messages, int maxChars, int? targetChars = null)
    {
        long total = 0;
        foreach (var message in messages)
        {
            total += Size(message);
        }

        if (total <= maxChars)
        {
            return 0;
        }

        long target = targetChars ?? maxChars;
        int lastTool = messages.FindLastIndex(m => m.Role == ChatRole.Tool);
        int elided = 0;
        for (int i = 0; i < lastTool && total > target; i++)
        {
            if (messages[i].Role != ChatRole.Tool)
            {
                continue;
            }

            // A new message, not an edit: earlier requests (and any client that kept them) still hold the original.
            var contents = messages[i].Contents.ToList();
            bool changed = false;
            for (int j = 0; j < contents.Count && total > target; j++)
            {
                if (contents[j] is not FunctionResultContent result || result.Result is not string text || text.StartsWith(ElidedPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                string note = string.Create(CultureInfo.InvariantCulture, $"{ElidedPrefix}{text.Length:N0} characters, removed to keep the conversation under {maxChars:N0} characters; call the tool again if you need it]");
                if (note.Length >= text.Length)
                {
                    continue;
                }

                contents[j] = new FunctionResultContent(result.CallId, note);
                total -= text.Length - note.Length;
                elided++;
                changed = true;
            }

            if (changed)
            {
                messages[i] = new ChatMessage(ChatRole.Tool, contents);
            }
        }

        return elided;
    }

    /// <summary>The characters a message adds to a request: its text, call arguments and tool results.</summary>
    internal static long Size(ChatMessage message)
    {
        long size = 0;
        foreach (var content in message.Contents)
        {
            size += content switch
            {
                TextContent t => t.Text?.Length ?? 0,
                FunctionCallContent c => (c.Name?.Length ?? 0) + (c.Arguments is null ? 0 : JsonSerializer.Serialize(c.Arguments).Length),
                FunctionResultContent r => r.Result?.ToString()?.Length ?? 0,
                _ => 0,
            };
        }

        return size;
    }
}
