using Rlm.Tools.Context;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tools;

namespace Rlm.Tools;

/// <summary>
/// The built-in offline model: a deterministic <see cref="IChatClient"/> that needs no LLM. It is not a language model and
/// does not pretend to be one; every answer it gives starts with <see cref="AnswerPrefix"/>.
/// </summary>
/// <remarks>
/// <para>With the RLM tools declared (a root or recursive worker session) it plans with the real tools, keyword retrieval
/// style: iteration 1 looks at the shape (<c>peek_lines</c>), runs one <c>grep</c> per question keyword and asks for
/// <c>chunk</c> boundaries; iteration 2 scores the hit lines (each keyword weighted by its rarity, log(1 + lines / hits),
/// as in TF-IDF) and fans out one <c>sub_llm</c> per chunk holding the best hits, in parallel; iteration 3 calls
/// <c>final</c> with the best hit lines and the workers' findings.</para>
/// <para>Without tools (a leaf completion, or <c>llm_query</c>) it answers extractively: the lines of its slice that score
/// highest for the question's keywords, or "not found in this slice".</para>
/// <para>Usage is reported as an estimate: characters / 4 for input and output tokens.</para>
/// </remarks>
public sealed class OfflineChatClient : IChatClient
{
    /// <summary>The text every answer of the offline model starts with.</summary>
    public const string AnswerPrefix = "[offline model: keyword retrieval, not an LLM]";

    /// <summary>The model id the offline model reports.</summary>
    public const string ModelId = "rlm-offline";

    private const int MaxKeywords = 6;
    private const int MaxSubCalls = 6;
    private const int EvidenceLines = 6;

    private static readonly HashSet<string> s_stopWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "the", "and", "or", "but", "not", "no", "of", "in", "on", "at", "to", "for", "from", "by", "with", "about",
        "as", "into", "than", "then", "this", "that", "these", "those", "there", "here", "it", "its", "is", "are", "was", "were",
        "be", "been", "being", "do", "does", "did", "done", "has", "have", "had", "can", "could", "should", "would", "will",
        "shall", "may", "might", "must", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "all", "any",
        "each", "every", "some", "many", "much", "more", "most", "other", "such", "only", "own", "same", "so", "too", "very",
        "just", "also", "if", "else", "me", "my", "we", "our", "you", "your", "he", "she", "they", "them", "their", "his", "her",
        "i", "find", "tell", "give", "show", "list", "say", "says", "said", "mention", "mentions", "mentioned", "please",
        "context", "document", "documents", "text", "file", "files", "line", "lines", "answer", "question", "exactly",
    };

    private static readonly Regex s_word = new(@"[\p{L}\p{N}_][\p{L}\p{N}_.\-]*[\p{L}\p{N}_]|[\p{L}\p{N}_]", RegexOptions.CultureInvariant);
    private static readonly Regex s_grepHeader = new(@"^([\d,]+) matching line", RegexOptions.CultureInvariant);
    private static readonly Regex s_grepHit = new(@"^(\d+) @(\d+)(?: \[(.+):(\d+)\])?: (.*)$", RegexOptions.CultureInvariant);
    private static readonly Regex s_sentenceEnd = new(@"(?<=[.!?])\s+", RegexOptions.CultureInvariant);
    private static readonly Regex s_contextSize = new(@"The context has ([\d,]+) characters in ([\d,]+) lines", RegexOptions.CultureInvariant);

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();
        var history = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        bool session = HasTool(options, "grep") && HasTool(options, "final");
        var reply = !session ? new ChatMessage(ChatRole.Assistant, Extract(history))
            : options!.ToolMode is NoneChatToolMode ? new ChatMessage(ChatRole.Assistant, LastAnswer(history)) // the iteration limit's last call
            : Plan(history, options);
        var response = new ChatResponse(reply)
        {
            ModelId = ModelId,
            FinishReason = reply.Contents.OfType<FunctionCallContent>().Any() ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
            Usage = EstimateUsage(history, reply),
            CreatedAt = DateTimeOffset.UnixEpoch,
        };
        return Task.FromResult(response);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return new ChatClientMetadata("rlm-offline", providerUri: null, defaultModelId: ModelId);
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static bool HasTool(ChatOptions? options, string name) =>
        options?.Tools?.Any(t => t is AIFunctionDeclaration f && f.Name == name) == true;

    private static ChatMessage Plan(IReadOnlyList<ChatMessage> history, ChatOptions options)
    {
        string question = Question(history);
        var keywords = Keywords(question);
        int step = history.Count(m => m.Role == ChatRole.Assistant && m.Contents.OfType<FunctionCallContent>().Any());
        var results = Results(history);
        var calls = history.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();

        if (step == 0)
        {
            int length = ContextSize(history).Chars;
            int chunkSize = Math.Clamp(length / 8, 8_000, 200_000);
            var first = new List<AIContent> { Call(step, 0, "peek_lines", ("start", 0), ("end", 5)) };
            for (int i = 0; i < keywords.Count; i++)
            {
                first.Add(Call(step, i + 1, "grep", ("pattern", Regex.Escape(keywords[i])), ("max_results", 40)));
            }

            first.Add(Call(step, keywords.Count + 1, "chunk", ("chunk_size", chunkSize)));
            return new ChatMessage(ChatRole.Assistant, first);
        }

        var evidence = Evidence(calls, results, keywords, ContextSize(history).Lines);
        if (step == 1 && options.Tools!.Any(t => t is AIFunctionDeclaration { Name: "sub_llm" }))
        {
            var chunks = Chunks(calls, results);
            var chosen = new List<(int Start, int End)>();
            foreach (var hit in evidence)
            {
                var chunk = chunks.FirstOrDefault(c => hit.Offset >= c.Start && hit.Offset < c.End);
                if (chunk != default && !chosen.Contains(chunk))
                {
                    chosen.Add(chunk);
                }

                if (chosen.Count == MaxSubCalls)
                {
                    break;
                }
            }

            if (chosen.Count == 0)
            {
                chosen.AddRange(chunks.Take(Math.Min(2, chunks.Count)));
            }

            if (chosen.Count > 0)
            {
                chosen.Sort();
                return new ChatMessage(ChatRole.Assistant, [.. chosen.Select((c, i) => (AIContent)Call(step, i, "sub_llm", ("query", question), ("start", c.Start), ("end", c.End)))]);
            }
        }

        var findings = calls.Where(c => c.Name == "sub_llm" && results.ContainsKey(c.CallId))
            .Select(c => (Range: $"characters {Arg(c, "start")}–{Arg(c, "end")}", Text: results[c.CallId]))
            .ToList();
        return new ChatMessage(ChatRole.Assistant, [Call(step, 0, "final", ("answer", Compose(question, evidence, findings)))]);
    }

    private static string Compose(string question, List<Hit> evidence, List<(string Range, string Text)> findings)
    {
        var text = new StringBuilder();
        text.Append(AnswerPrefix).Append(' ');
        if (evidence.Count == 0 && findings.All(f => IsNotFound(f.Text)))
        {
            text.Append(CultureInfo.InvariantCulture, $"No line of the context matches the keywords of \"{TextLimits.OneLine(question, 200)}\".");
            return text.ToString();
        }

        text.Append(CultureInfo.InvariantCulture, $"Best-matching lines for \"{TextLimits.OneLine(question, 200)}\":\n");
        foreach (var hit in evidence.Take(EvidenceLines))
        {
            // Line numbers for people are 1-based, as grep -n and editors count: document:line as the grep tool gives it,
            // else the context line grep gave (0-based, the tools' convention) plus one.
            text.Append("- ");
            if (hit.Document is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"{hit.Document}:{hit.DocumentLine}: ");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"(line {hit.Line + 1}): ");
            }

            text.Append(TextLimits.OneLine(hit.Text, 300)).Append('\n');
        }

        var useful = findings.Where(f => !IsNotFound(f.Text)).ToList();
        if (useful.Count > 0)
        {
            text.Append("Worker findings:\n");
            foreach (var (range, finding) in useful)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {range}: {TextLimits.OneLine(StripPrefix(finding), 400)}\n");
            }
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>The answer of a session whose tools were taken away (the iteration limit): built from what it gathered.</summary>
    private static string LastAnswer(IReadOnlyList<ChatMessage> history)
    {
        var calls = history.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        var results = Results(history);
        string question = Question(history);
        return Compose(question, Evidence(calls, results, Keywords(question), ContextSize(history).Lines), []);
    }

    private static string Extract(IReadOnlyList<ChatMessage> history)
    {
        string prompt = history.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? string.Empty;
        string question = Between(prompt, "<question>", "</question>") ?? prompt;
        string slice = Between(prompt, "<context", "</context>", lastClose: true) is { } tagged ? tagged[(tagged.IndexOf('>') + 1)..] : prompt;
        var keywords = Keywords(question);
        var lines = Segments(slice);
        var counts = keywords.ToDictionary(k => k, k => lines.Count(l => l.Contains(k, StringComparison.OrdinalIgnoreCase)), StringComparer.OrdinalIgnoreCase);
        var scored = lines.Select((line, index) => (Index: index, Line: line.TrimEnd('\r'), Score: Score(line, keywords, counts, lines.Length)))
            .Where(l => l.Score > 0)
            .OrderByDescending(l => l.Score).ThenBy(l => l.Index)
            .Take(3)
            .OrderBy(l => l.Index)
            .ToList();
        if (scored.Count == 0)
        {
            return $"{AnswerPrefix} not found in this slice.";
        }

        return $"{AnswerPrefix} " + string.Join(" | ", scored.Select(l => TextLimits.OneLine(l.Line, 300)));
    }

    /// <summary>The slice's lines; a line longer than 400 characters is split into sentences, so one-line text still yields short answers.</summary>
    private static string[] Segments(string slice) =>
        [.. slice.Split('\n').SelectMany(line => line.Length <= 400 ? [line] : s_sentenceEnd.Split(line))];

    /// <summary>The grep hits of the history, best first: each keyword a line holds adds log(1 + lines / lines with that keyword).</summary>
    private static List<Hit> Evidence(List<FunctionCallContent> calls, Dictionary<string, string> results, List<string> keywords, int total)
    {
        var hits = new Dictionary<int, Hit>();
        var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var call in calls.Where(c => c.Name == "grep" && results.ContainsKey(c.CallId)))
        {
            var lines = results[call.CallId].Split('\n');
            if (lines.Length == 0 || s_grepHeader.Match(lines[0]) is not { Success: true } header)
            {
                continue;
            }

            string keyword = Regex.Unescape(Arg(call, "pattern"));
            counts[keyword] = int.Parse(header.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
            foreach (var line in lines.Skip(1))
            {
                if (s_grepHit.Match(line) is { Success: true } m)
                {
                    int number = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                    hits.TryAdd(number, new Hit(number, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                        m.Groups[3].Success ? m.Groups[3].Value : null, m.Groups[4].Success ? int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture) : 0, m.Groups[5].Value));
                }
            }
        }

        foreach (var key in keywords.Where(k => !counts.ContainsKey(k)))
        {
            counts[key] = 0;
        }

        var ranked = hits.Values
            .Select(h => h with { Score = Score(h.Text, keywords, counts, total) + (h.Document is not null ? Score(h.Document, keywords, counts, total) : 0) })
            .Where(h => h.Score > 0)
            .OrderByDescending(h => h.Score).ThenBy(h => h.Line)
            .ToList();

        // Keep the strong hits only: a line scoring under half the best one matched only common words.
        double best = ranked.Count > 0 ? ranked[0].Score : 0;
        return [.. ranked.Where(h => h.Score >= best / 2)];
    }

    private static double Score(string line, List<string> keywords, Dictionary<string, int> counts, int lines)
    {
        double score = 0;
        foreach (var keyword in keywords)
        {
            if (line.Contains(keyword, StringComparison.OrdinalIgnoreCase))
            {
                score += Math.Log(1 + (double)lines / Math.Max(1, counts.GetValueOrDefault(keyword)));
            }
        }

        return score;
    }

    private static List<(int Start, int End)> Chunks(List<FunctionCallContent> calls, Dictionary<string, string> results)
    {
        var call = calls.LastOrDefault(c => c.Name == "chunk" && results.ContainsKey(c.CallId));
        if (call is null)
        {
            return [];
        }

        string text = results[call.CallId];
        int open = text.IndexOf('[');
        if (open < 0)
        {
            return [];
        }

        try
        {
            using var json = JsonDocument.Parse(text[open..]);
            return [.. json.RootElement.EnumerateArray().Select(e => (e.GetProperty("start").GetInt32(), e.GetProperty("end").GetInt32()))];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>The question's keywords: words that are not stop words, longest and most specific first.</summary>
    internal static List<string> Keywords(string question)
    {
        var words = s_word.Matches(question).Select(m => m.Value.Trim('.', '-')).Where(w => w.Length > 0).ToList();
        var keep = words.Where(w => !s_stopWords.Contains(w) && (w.Length >= 3 || w.Any(char.IsDigit))).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (keep.Count == 0)
        {
            keep = words.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        }

        static int Specificity(string w) => w.Length + (w.Any(char.IsDigit) ? 6 : 0) + (w.Skip(1).Any(char.IsUpper) ? 4 : 0) + (w.Any(c => c is '_' or '-' or '.') ? 3 : 0);
        return [.. keep.OrderByDescending(Specificity).ThenBy(w => w, StringComparer.Ordinal).Take(MaxKeywords)];
    }

    private static string Question(IReadOnlyList<ChatMessage> history)
    {
        string first = history.FirstOrDefault(m => m.Role == ChatRole.User)?.Text ?? string.Empty;
        return (Between(first, "<question>", "</question>") ?? first).Trim();
    }

    /// <summary>The context's size as the session's task message states it (defaults when the message is not the engine's).</summary>
    private static (int Chars, int Lines) ContextSize(IReadOnlyList<ChatMessage> history)
    {
        string first = history.FirstOrDefault(m => m.Role == ChatRole.User)?.Text ?? string.Empty;
        return s_contextSize.Match(first) is { Success: true } m
            ? (int.Parse(m.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture), Math.Max(1, int.Parse(m.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)))
            : (400_000, 10_000);
    }

    /// <summary>The text between the first <paramref name="open"/> and the next <paramref name="close"/>, or (<paramref name="lastClose"/>) the last one, for a context slice that may itself hold the tag.</summary>
    private static string? Between(string text, string open, string close, bool lastClose = false)
    {
        int start = text.IndexOf(open, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        int from = start + open.Length;
        int end = lastClose ? text.LastIndexOf(close, StringComparison.Ordinal) : text.IndexOf(close, from, StringComparison.Ordinal);
        return end >= from ? text[from..end].Trim('\n') : null;
    }

    /// <summary>The tool results of the history, by call id.</summary>
    private static Dictionary<string, string> Results(IReadOnlyList<ChatMessage> history) =>
        history.SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToDictionary(r => r.CallId, r => r.Result?.ToString() ?? string.Empty, StringComparer.Ordinal);

    private static FunctionCallContent Call(int step, int index, string name, params (string Key, object Value)[] arguments) =>
        new($"offline_{step}_{index}", name, arguments.ToDictionary(a => a.Key, a => (object?)a.Value));

    private static string Arg(FunctionCallContent call, string name) =>
        call.Arguments is not null && call.Arguments.TryGetValue(name, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty : string.Empty;

    private static bool IsNotFound(string text) => text.Contains("not found in this slice", StringComparison.OrdinalIgnoreCase) || text.StartsWith("Error:", StringComparison.Ordinal);

    private static string StripPrefix(string text) => text.Replace(AnswerPrefix, string.Empty, StringComparison.Ordinal).Trim();

    private static UsageDetails EstimateUsage(IReadOnlyList<ChatMessage> history, ChatMessage reply)
    {
        long input = history.Sum(m => (long)m.Text.Length + m.Contents.OfType<FunctionResultContent>().Sum(r => (long)(r.Result?.ToString()?.Length ?? 0))) / 4;
        long output = (reply.Text.Length + reply.Contents.OfType<FunctionCallContent>().Sum(c => JsonSerializer.Serialize(c.Arguments).Length + (c.Name?.Length ?? 0))) / 4;
        return new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output };
    }

    private sealed record Hit(int Line, int Offset, string? Document, int DocumentLine, string Text, double Score = 0);
}
