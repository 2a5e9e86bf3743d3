using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Server.OpenAI;

/// <summary>Turns the messages of a Chat Completions request into M.E.AI <see cref="ChatMessage"/>s (the middleware's input).</summary>
internal static class ChatRequestReader
{
    /// <summary>Most characters of the earlier messages added to a corpus question as a transcript.</summary>
    private const int MaxTranscriptChars = 16_000;

    /// <summary>
    /// Converts the messages: <c>content</c> a string, or parts of type <c>text</c> (text) and <c>file</c> with a text
    /// <c>file_data</c> data URL (an attachment named by <c>filename</c>); other parts (images, audio) are not read.
    /// </summary>
    /// <exception cref="ChatRequestException">A role is unknown or a part is malformed.</exception>
    public static List<ChatMessage> ToChatMessages(IReadOnlyList<ChatCompletionMessage> messages)
    {
        var list = new List<ChatMessage>(messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var role = message.Role switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                "tool" => ChatRole.Tool,
                _ => throw new ChatRequestException($"messages[{i}].role must be system, developer, user, assistant or tool", $"messages[{i}].role"),
            };
            list.Add(new ChatMessage(role, Contents(message.Content, i)) { AuthorName = message.Name });
        }

        return list;
    }

    /// <summary>The question of a corpus route: the last user message's text, after a transcript of the earlier messages (if any).</summary>
    /// <exception cref="ChatRequestException">There is no user message with text.</exception>
    public static string Question(IReadOnlyList<ChatMessage> messages)
    {
        int last = -1;
        for (int i = messages.Count - 1; i >= 0 && last < 0; i--)
        {
            if (messages[i].Role == ChatRole.User && !string.IsNullOrWhiteSpace(messages[i].Text))
            {
                last = i;
            }
        }

        if (last < 0)
        {
            throw new ChatRequestException("the request has no user message with text: the last one is the question", "messages");
        }

        var transcript = new StringBuilder();
        for (int i = last - 1; i >= 0 && transcript.Length < MaxTranscriptChars; i--)
        {
            if (!string.IsNullOrWhiteSpace(messages[i].Text))
            {
                transcript.Insert(0, $"{messages[i].Role.Value}: {messages[i].Text.Trim()}\n");
            }
        }

        string question = messages[last].Text.Trim();
        return transcript.Length == 0 ? question : $"{question}\n\nThe conversation so far (oldest first):\n{transcript}";
    }

    /// <summary>Tells whether a request brings its own context: a text attachment, or a message of at least <paramref name="minDocumentTokens"/> tokens.</summary>
    public static bool HasOwnContext(IReadOnlyList<ChatMessage> messages, RlmChatClient client, int minDocumentTokens) =>
        messages.Any(m => m.Contents.OfType<DataContent>().Any(IsText) || client.CountTokens([m]) >= minDocumentTokens);

    private static List<AIContent> Contents(JsonElement content, int index)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return [new TextContent(content.GetString())];
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return [];
            case JsonValueKind.Array:
                var parts = new List<AIContent>();
                foreach (var part in content.EnumerateArray())
                {
                    string? type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;
                    if (type == "text" && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        parts.Add(new TextContent(text.GetString()));
                    }
                    else if (type == "file" && part.TryGetProperty("file", out var file) && FileContent(file, index) is { } data)
                    {
                        parts.Add(data);
                    }
                    else if (type is null)
                    {
                        throw new ChatRequestException($"messages[{index}].content: each part needs a type", $"messages[{index}].content");
                    }
                }

                return parts;
            default:
                throw new ChatRequestException($"messages[{index}].content must be a string or an array of parts", $"messages[{index}].content");
        }
    }

    /// <summary>A <c>file</c> part whose <c>file_data</c> is a text data URL, as an attachment; other files are not read.</summary>
    private static DataContent? FileContent(JsonElement file, int index)
    {
        if (file.ValueKind != JsonValueKind.Object || !file.TryGetProperty("file_data", out var data) || data.GetString() is not { } url)
        {
            return null;
        }

        DataContent content;
        try
        {
            content = new DataContent(url);
        }
        catch (FormatException)
        {
            throw new ChatRequestException($"messages[{index}].content: file_data is not a data URL (data:text/plain;base64,...)", $"messages[{index}].content");
        }

        content.Name = file.TryGetProperty("filename", out var name) ? name.GetString() : null;
        return IsText(content) ? content : null;
    }

    private static bool IsText(DataContent content) =>
        content.MediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
        || content.MediaType is "application/json" or "application/xml" or "application/x-ndjson" or "application/csv";
}

/// <summary>A request the server cannot read: a 400 with the OpenAI error shape.</summary>
internal sealed class ChatRequestException(string message, string? param = null) : Exception(message)
{
    public string? Param { get; } = param;
}
