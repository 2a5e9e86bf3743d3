using Rlm.Tools.Context;
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
/// <c>chunk</c> boundaries sized by the context's length (from the session's typed task); iteration 2 scores the hit lines
/// (each keyword weighted by its rarity, log(1 + lines / hits), as in TF-IDF) and fans out one <c>sub_llm</c> per chunk
/// holding the best hits, in parallel; iteration 3 calls <c>final</c> with the best hit lines and the workers' findings.</para>
/// <para>It reads the tools' typed results (<see cref="AIContent.RawRepresentation"/> of each
/// <see cref="FunctionResultContent"/>), never their text; a result without one (rebuilt from text, or elided to keep the
/// conversation short) is skipped, and the answer is built from what remains.</para>
/// <para>Without tools (a leaf completion, or <c>llm_query</c>) it answers extractively: the lines of its slice that score
/// highest for the question's keywords, or "not found in this slice".</para>
/// <para>Usage is reported as an estimate: characters / 4 for input and output tokens.</para>
/// </remarks>
public sealed partial class OfflineChatClient : IChatClient
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
    private static readonly Regex s_sentenceEnd = new(@"(?<=[.!?])\s+", RegexOptions.CultureInvariant);

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
        var results = Results(history);
        bool canFanOut = options.Tools!.Any(t => t is AIFunctionDeclaration { Name: "sub_llm" });

        // What to do next follows from the calls still in the conversation and the typed results at hand (a compaction
        // summarizes the calls away but keeps their results).
        var calls = history.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        bool Done<T>(string tool) => calls.Any(c => c.Name == tool) || results.OfType<T>().Any();
        int step = history.Count;
        var task = TaskOf(history);
        if (!Done<PeekLinesResult>("peek_lines"))
        {
            var first = new List<AIContent> { Call(step, 0, "peek_lines", ("start", 0), ("end", 5)) };
            for (int i = 0; i < keywords.Count; i++)
            {
                first.Add(Call(step, i + 1, "grep", ("pattern", Regex.Escape(keywords[i])), ("max_results", 40)));
            }

            // The task says how long the context is: the chunks can be asked for at once.
            if (canFanOut && task is not null)
            {
                first.Add(Call(step, keywords.Count + 1, "chunk", ("chunk_size", ChunkSize(task.ContextChars))));
            }

            return new ChatMessage(ChatRole.Assistant, first);
        }

        if (canFanOut && !Done<ChunkResult>("chunk"))
        {
            return new ChatMessage(ChatRole.Assistant, [Call(step, 0, "chunk", ("chunk_size", ChunkSize(ContextSize(results, task).Chars)))]);
        }

        var evidence = Evidence(results, keywords, ContextSize(results, task).Lines);
        if (canFanOut && !Done<SubLlmResult>("sub_llm"))
        {
            var chunks = Chunks(results);
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

        var findings = Findings(results);

        // A worker's line that no grep listed (beyond max_results): grep for it once, so the answer cites file:line.
        bool located = calls.SkipWhile(c => c.Name != "sub_llm").Any(c => c.Name == "grep");
        var unlocated = findings.Where(f => f.Cite == NotLocated).Select(f => f.Text).Distinct().Take(MaxSubCalls).ToList();
        if (!located && unlocated.Count > 0)
        {
            return new ChatMessage(ChatRole.Assistant, [.. unlocated.Select((line, i) => (AIContent)Call(step, i, "grep", ("pattern", Regex.Escape(LocatorText(line))), ("max_results", 5)))]);
        }

        return new ChatMessage(ChatRole.Assistant, [Call(step, 0, "final", ("answer", Compose(question, evidence, findings)))]);
    }

    /// <summary>The answer of a session whose tools were taken away (the iteration limit): built from what it gathered.</summary>
    private static string LastAnswer(IReadOnlyList<ChatMessage> history)
    {
        var results = Results(history);
        string question = Question(history);
        return Compose(question, Evidence(results, Keywords(question), ContextSize(results, TaskOf(history)).Lines), []);
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

        return $"{AnswerPrefix} " + string.Join(" | ", scored.Select(l => TextLimits.OneLine(AroundKeyword(l.Line, keywords), 400)));
    }

    /// <summary>A long line cut to a window centred on its first keyword (as grep shows a hit), so the keyword stays in the answer.</summary>
    private static string AroundKeyword(string line, List<string> keywords)
    {
        const int Window = 300;
        if (line.Length <= Window)
        {
            return line;
        }

        var found = keywords.Select(k => (Index: line.IndexOf(k, StringComparison.OrdinalIgnoreCase), k.Length)).Where(f => f.Index >= 0).DefaultIfEmpty((Index: 0, Length: 0)).MinBy(f => f.Index);
        return GrepSearch.Excerpt(line, found.Index, found.Length, Window);
    }

    /// <summary>The slice's lines; a line longer than 400 characters is split into sentences, so one-line text still yields short answers.</summary>
    private static string[] Segments(string slice) =>
        [.. slice.Split('\n').SelectMany(line => line.Length <= 400 ? [line] : s_sentenceEnd.Split(line))];

    private static List<(int Start, int End)> Chunks(List<ToolOutput> results) =>
        results.OfType<ChunkResult>().LastOrDefault() is { } chunk ? [.. chunk.Chunks.Select(c => (c.Start, c.End))] : [];

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

    /// <summary>The session's task, typed, when the engine sent it (the first user message's raw representation).</summary>
    private static SessionTask? TaskOf(IReadOnlyList<ChatMessage> history) =>
        history.FirstOrDefault(m => m.Role == ChatRole.User)?.RawRepresentation as SessionTask;

    /// <summary>The question: the typed task's, else the whole first user message (a caller other than the engine).</summary>
    private static string Question(IReadOnlyList<ChatMessage> history) =>
        (TaskOf(history)?.Question ?? history.FirstOrDefault(m => m.Role == ChatRole.User)?.Text ?? string.Empty).Trim();

    /// <summary>About eight chunks over the context, each between 8,000 and 200,000 characters.</summary>
    private static int ChunkSize(int contextChars) => Math.Clamp(contextChars / 8, 8_000, 200_000);

    /// <summary>The context's size: from the typed task, else as <c>peek_lines</c> reported it, else a guess.</summary>
    private static (int Chars, int Lines) ContextSize(List<ToolOutput> results, SessionTask? task) =>
        task is not null ? (task.ContextChars, Math.Max(1, task.ContextLines))
        : results.OfType<PeekLinesResult>().FirstOrDefault() is { } shape ? (shape.TotalCharacters, Math.Max(1, shape.TotalLines))
        : (400_000, 10_000);

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

    /// <summary>The typed tool results of the history, in order; results without one are left out.</summary>
    /// <summary>The typed tool results of the history, oldest first, those a compaction summarized included.</summary>
    private static List<ToolOutput> Results(IReadOnlyList<ChatMessage> history) =>
        [.. history.SelectMany(m => m.RawRepresentation is SummarizedResults summarized
            ? summarized.Outputs
            : m.Contents.OfType<FunctionResultContent>().Select(r => r.RawRepresentation)).OfType<ToolOutput>()];

    private static FunctionCallContent Call(int step, int index, string name, params (string Key, object Value)[] arguments) =>
        new($"offline_{step}_{index}", name, arguments.ToDictionary(a => a.Key, a => (object?)a.Value));

    private static bool IsNotFound(string answer) => answer.Contains("not found in this slice", StringComparison.OrdinalIgnoreCase);

    private static string StripPrefix(string text) => text.Replace(AnswerPrefix, string.Empty, StringComparison.Ordinal).Trim();

    private static UsageDetails EstimateUsage(IReadOnlyList<ChatMessage> history, ChatMessage reply)
    {
        long input = history.Sum(m => (long)m.Text.Length + m.Contents.OfType<FunctionResultContent>().Sum(r => (long)(r.Result?.ToString()?.Length ?? 0))) / 4;
        long output = (reply.Text.Length + reply.Contents.OfType<FunctionCallContent>().Sum(c => JsonSerializer.Serialize(c.Arguments).Length + (c.Name?.Length ?? 0))) / 4;
        return new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output };
    }

}
