using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Rlm.Tools.Middleware;

/// <summary>
/// Reads one chat request for <see cref="RlmChatClient"/>: counts its tokens (stopping once a limit is crossed) and turns
/// it into a query and named documents.
/// </summary>
internal sealed class RequestReader
{
    /// <summary>Tokens a message costs for the chat format, on top of its contents (OpenAI's counting guide uses 3 to 4).</summary>
    internal const int TokensPerMessage = 4;

    private const int MaxFramingChars = 2_000;
    private readonly Tokenizer _tokenizer;
    private readonly RlmChatClientOptions _options;
    private readonly Dictionary<DataContent, string> _decoded = new(ReferenceEqualityComparer.Instance);

    public RequestReader(Tokenizer tokenizer, RlmChatClientOptions options)
    {
        _tokenizer = tokenizer;
        _options = options;
    }

    /// <summary>Counts the tokens of <paramref name="text"/>, up to <paramref name="max"/>: a longer text counts <paramref name="max"/> + 1.</summary>
    public static int CountTokens(Tokenizer tokenizer, string text, int max)
    {
        if (text.Length == 0)
        {
            return 0;
        }

        if (max <= 0)
        {
            return 1;
        }

        int index = tokenizer.GetIndexByTokenCount(text, max, out string? normalized, out int count, considerPreTokenization: true, considerNormalization: true);
        return index >= (normalized?.Length ?? text.Length) ? count : max + 1;
    }

    /// <summary>Counts a request's tokens up to <paramref name="max"/>; a larger request counts <paramref name="max"/> + 1.</summary>
    public int CountRequestTokens(IReadOnlyList<ChatMessage> messages, ChatOptions? options, int max)
    {
        long used = 0;
        foreach (string text in CountedTexts(messages, options))
        {
            used += CountTokens(_tokenizer, text, (int)Math.Max(0, max - used));
            if (used > max)
            {
                return max + 1;
            }
        }

        used += (long)TokensPerMessage * messages.Count;
        return used > max ? max + 1 : (int)used;
    }

    /// <summary>Turns a request into the run's query and documents.</summary>
    public (string Query, IReadOnlyList<RlmDocument> Documents) Plan(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        int last = -1;
        for (int i = messages.Count - 1; i >= 0 && last < 0; i--)
        {
            last = messages[i].Role == ChatRole.User ? i : -1;
        }

        if (last < 0)
        {
            last = messages.Count - 1;
        }

        var documents = new List<RlmDocument>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var transcript = new StringBuilder();
        var query = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(options?.Instructions))
        {
            string instructions = options.Instructions;
            string line = IsLarge(instructions) ? $"[instructions moved to document {Add("instructions.txt", instructions)}]" : instructions;
            transcript.Append("instructions: ").Append(line).Append('\n');
        }

        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            string role = message.Role.Value.ToLowerInvariant();
            var parts = new List<string>();
            foreach (var content in message.Contents)
            {
                if (content is DataContent data)
                {
                    if (IsTextMediaType(data.MediaType))
                    {
                        string name = Add(data.Name ?? $"attachment-{i + 1}{Extension(data.MediaType)}", Decode(data));
                        parts.Add($"[attached document {name}]");
                    }
                    else
                    {
                        parts.Add($"[{data.MediaType} attachment, not readable here{(data.Name is null ? "" : ": " + data.Name)}]");
                    }

                    continue;
                }

                if (content is TextReasoningContent)
                {
                    continue;
                }

                string? text = TextOf(content);
                if (text is null)
                {
                    continue;
                }

                if (IsLarge(text))
                {
                    string name = Add($"message-{i + 1}-{role}.txt", text);
                    if (i == last && content is TextContent)
                    {
                        parts.Add(Framing(text));
                    }

                    parts.Add($"[{(content is FunctionResultContent ? "function result" : "pasted text")} moved to document {name}]");
                }
                else
                {
                    parts.Add(content switch
                    {
                        FunctionCallContent call => $"[called {text}]",
                        FunctionResultContent => $"[function result: {text}]",
                        _ => text,
                    });
                }
            }

            var nonEmpty = parts.Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p.Trim());
            if (i == last)
            {
                query.AppendJoin("\n\n", nonEmpty);
            }
            else if (parts.Count > 0)
            {
                transcript.Append(role).Append(": ").AppendJoin(" ", nonEmpty).Append('\n');
            }
        }

        string lastText = query.ToString().Trim();
        query.Clear().Append(lastText.Length > 0 ? lastText : RlmChatClient.DefaultQuery);
        if (transcript.Length > 0)
        {
            string conversation = transcript.ToString();
            int budget = _options.MaxConversationTokens;
            if (budget > 0 && CountTokens(_tokenizer, conversation, budget) <= budget)
            {
                query.Append("\n\nEarlier conversation, for context:\n").Append(conversation.TrimEnd());
            }
            else
            {
                query.Append("\n\nThe earlier conversation is in the document ").Append(Add("conversation.txt", conversation)).Append('.');
            }
        }

        if (documents.Count == 0 && messages.Count > 0)
        {
            // A marked request with nothing large: the last message itself is the context.
            Add($"message-{last + 1}-{messages[last].Role.Value.ToLowerInvariant()}.txt", string.Join("\n", messages[last].Contents.Select(TextOf).Where(t => t is not null)));
        }

        return (query.ToString(), documents);

        string Add(string name, string text)
        {
            string unique = UniqueName(names, name);
            documents.Add(new RlmDocument(unique, text));
            return unique;
        }
    }

    /// <summary>Whether a media type is text that a run can read: <c>text/*</c>, JSON, XML, YAML, CSV, NDJSON, scripts.</summary>
    public static bool IsTextMediaType(string mediaType)
    {
        string type = mediaType.Split(';', 2)[0].Trim().ToLowerInvariant();
        return type.StartsWith("text/", StringComparison.Ordinal)
            || type.EndsWith("+json", StringComparison.Ordinal)
            || type.EndsWith("+xml", StringComparison.Ordinal)
            || type is "application/json" or "application/xml" or "application/x-ndjson" or "application/jsonl" or "application/yaml"
                or "application/x-yaml" or "application/csv" or "application/javascript" or "application/x-sh" or "application/sql"
                or "application/toml" or "application/x-log";
    }

    private bool IsLarge(string text)
    {
        int max = _options.MinDocumentTokens - 1;
        return CountTokens(_tokenizer, text, max) > max;
    }

    private IEnumerable<string> CountedTexts(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        if (options?.Instructions is { Length: > 0 } instructions)
        {
            yield return instructions;
        }

        if (options?.Tools is { } tools)
        {
            foreach (var tool in tools)
            {
                yield return tool.Name;
                yield return tool.Description;
                if (tool is AIFunctionDeclaration function)
                {
                    yield return function.JsonSchema.GetRawText();
                }
            }
        }

        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                if (TextOf(content) is { } text)
                {
                    yield return text;
                }
            }
        }
    }

    private string? TextOf(AIContent content) => content switch
    {
        TextContent text => text.Text,
        TextReasoningContent reasoning => reasoning.Text,
        DataContent data when IsTextMediaType(data.MediaType) => Decode(data),
        FunctionCallContent call => call.Name + "(" + (call.Arguments is null ? "" : Serialize(call.Arguments)) + ")",
        FunctionResultContent result => result.Result switch
        {
            null => "",
            string s => s,
            JsonElement json => json.ValueKind == JsonValueKind.String ? json.GetString() ?? "" : json.GetRawText(),
            var value => Serialize(value),
        },
        _ => null,
    };

    private string Decode(DataContent data)
    {
        if (!_decoded.TryGetValue(data, out string? text))
        {
            var bytes = data.Data.Span;
            if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            {
                bytes = bytes[3..];
            }

            text = Encoding.UTF8.GetString(bytes);
            _decoded[data] = text;
        }

        return text;
    }

    private static string Serialize(object value)
    {
        try
        {
            return JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType()));
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return value.ToString() ?? "";
        }
    }

    /// <summary>The user's own words around a pasted text: a short first paragraph and a short last paragraph.</summary>
    private static string Framing(string text)
    {
        var framing = new StringBuilder();
        int first = BlankLine(text, fromEnd: false);
        if (first > 0 && first <= MaxFramingChars)
        {
            framing.Append(text.AsSpan(0, first).Trim());
        }

        int last = BlankLine(text, fromEnd: true);
        if (last > first && text.Length - last <= MaxFramingChars)
        {
            framing.Append(framing.Length > 0 ? "\n\n" : "").Append(text.AsSpan(last).Trim());
        }

        return framing.ToString();
    }

    /// <summary>The index of the first (or last) blank line's break, or -1.</summary>
    private static int BlankLine(string text, bool fromEnd)
    {
        int index = fromEnd ? text.TrimEnd().LastIndexOf("\n\n", StringComparison.Ordinal) : text.IndexOf("\n\n", StringComparison.Ordinal);
        int crlf = fromEnd ? text.TrimEnd().LastIndexOf("\n\r\n", StringComparison.Ordinal) : text.IndexOf("\n\r\n", StringComparison.Ordinal);
        if (crlf >= 0 && (index < 0 || (fromEnd ? crlf > index : crlf < index)))
        {
            index = crlf;
        }

        return index;
    }

    private static string UniqueName(HashSet<string> names, string name)
    {
        string clean = new(name.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        clean = string.IsNullOrWhiteSpace(clean) ? "document.txt" : clean.Trim();
        string unique = clean;
        for (int n = 2; !names.Add(unique); n++)
        {
            string extension = Path.GetExtension(clean);
            unique = $"{clean[..^extension.Length]} ({n}){extension}";
        }

        return unique;
    }

    private static string Extension(string mediaType)
    {
        string type = mediaType.Split(';', 2)[0].Trim().ToLowerInvariant();
        return type switch
        {
            "text/markdown" => ".md",
            "text/csv" or "application/csv" => ".csv",
            "text/html" => ".html",
            "application/json" => ".json",
            "application/x-ndjson" or "application/jsonl" => ".jsonl",
            "application/xml" or "text/xml" => ".xml",
            "application/yaml" or "application/x-yaml" or "text/yaml" => ".yaml",
            _ when type.EndsWith("+json", StringComparison.Ordinal) => ".json",
            _ when type.EndsWith("+xml", StringComparison.Ordinal) => ".xml",
            _ => ".txt",
        };
    }
}
