using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using Rlm.Tools.Orchestration;

namespace Rlm.Tools.Tests.TestSupport;

/// <summary>One root request of a drill: its input tokens, the tokens it shares as an unchanged prefix with the previous root request, and whether a compaction came just before it.</summary>
public sealed record PrefixCacheRequest(int Index, long InputTokens, long PrefixTokens, bool AfterCompaction)
{
    public double Share => InputTokens == 0 ? 0 : (double)PrefixTokens / InputTokens;
}

/// <summary>The figures of one drill.</summary>
public sealed record PrefixCacheReport(
    string Label,
    IReadOnlyList<PrefixCacheRequest> Requests,
    int Compactions,
    int SummaryRequests,
    long InputTokens,
    long CachedInputTokens,
    decimal? CostUsd,
    decimal? CostWithoutCacheUsd)
{
    /// <summary>Mean unchanged-prefix share of the root requests after the first, without the requests that follow a compaction.</summary>
    public double MeanShareExcludingCompaction =>
        Requests.Skip(1).Where(r => !r.AfterCompaction).Select(r => r.Share).DefaultIfEmpty(0).Average();

    /// <summary>Mean over every root request after the first.</summary>
    public double MeanShare => Requests.Skip(1).Select(r => r.Share).DefaultIfEmpty(0).Average();
}

/// <summary>
/// A scripted 20-iteration root run (grep, peek, sub_llm, exec_js, set_variable over a 200,000-character log) that
/// measures how much of each root request is an unchanged prefix of the previous one: the part a provider's automatic
/// prefix cache can serve. Requests are serialized deterministically (role, text, call name/id/arguments, result) and
/// counted in o200k tokens (Microsoft.ML.Tokenizers). The scripted root reports usage as a provider with prefix caching
/// would: input tokens, and cached tokens = the common prefix with the previous request, in blocks of 128 once it is at
/// least 1,024 tokens (OpenAI's rule). Shared by the unit test and <c>Rlm.Tools.Benchmarks prefix-cache</c>.
/// </summary>
public static class PrefixCacheDrill
{
    public const int Iterations = 20;

    private static readonly Tokenizer s_tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");

    /// <summary>The drill's context: 2,000 log lines of about 100 characters, every 25th an ERROR line.</summary>
    public static string Context { get; } = BuildContext();

    /// <summary>Runs the engine with <paramref name="options"/> (its model ids are set to gpt-4.1 / gpt-4.1-mini for prices).</summary>
    public static async Task<(PrefixCacheReport Report, RlmResult Result, IReadOnlyList<IReadOnlyList<ChatMessage>> RootRequests)> RunAsync(string label, RlmOptions options, CancellationToken cancellationToken = default)
    {
        options.RootModelId = "gpt-4.1";
        options.WorkerModelId = "gpt-4.1-mini";
        var root = new Root();
        var worker = new Worker();
        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("Which services log the most errors, and what do their errors say?", Context, cancellationToken);
        var requests = root.MainRequests;
        var measured = Measure(requests, root.AfterCompaction);
        decimal? costWithoutCache = 0;
        foreach (var (model, usage) in result.UsageByModel)
        {
            var plain = new UsageDetails { InputTokenCount = usage.InputTokenCount, OutputTokenCount = usage.OutputTokenCount };
            costWithoutCache = costWithoutCache is { } sum && options.Prices.Cost(model, plain) is { } c ? sum + c : null;
        }

        var report = new PrefixCacheReport(label, measured, result.Statistics.Compactions, root.SummaryRequests,
            result.Usage.InputTokenCount ?? 0, result.Usage.CachedInputTokenCount ?? 0, result.CostUsd, costWithoutCache);
        return (report, result, requests);
    }

    /// <summary>
    /// Replays the per-iteration trim the engine did before compaction (<see cref="ConversationBudget.Trim"/> to
    /// <paramref name="maxChars"/> before every request) over the root requests of an uncompacted run, and measures them.
    /// </summary>
    public static PrefixCacheReport ReplayPerTurnTrim(string label, IReadOnlyList<IReadOnlyList<ChatMessage>> untrimmed, int maxChars)
    {
        var conversation = new List<ChatMessage>();
        int appended = 0;
        var requests = new List<IReadOnlyList<ChatMessage>>();
        foreach (var request in untrimmed)
        {
            for (; appended < request.Count; appended++)
            {
                conversation.Add(request[appended]);
            }

            ConversationBudget.Trim(conversation, maxChars);
            requests.Add([.. conversation]);
        }

        var measured = Measure(requests, new HashSet<int>());
        return new PrefixCacheReport(label, measured, 0, 0, measured.Sum(r => r.InputTokens), 0, null, null);
    }

    /// <summary>Serializes a request deterministically: what a provider's prefix cache compares.</summary>
    public static string Serialize(IEnumerable<ChatMessage> messages)
    {
        var text = new StringBuilder();
        foreach (var message in messages)
        {
            text.Append("<|").Append(message.Role.Value).Append("|>");
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent t:
                        text.Append(t.Text);
                        break;
                    case FunctionCallContent c:
                        text.Append("<call ").Append(c.CallId).Append(' ').Append(c.Name).Append('>')
                            .Append(JsonSerializer.Serialize(c.Arguments, AIJsonUtilities.DefaultOptions));
                        break;
                    case FunctionResultContent r:
                        text.Append("<result ").Append(r.CallId).Append('>').Append(r.Result?.ToString());
                        break;
                }
            }

            text.Append("<|end|>");
        }

        return text.ToString();
    }

    private static List<PrefixCacheRequest> Measure(IReadOnlyList<IReadOnlyList<ChatMessage>> requests, IReadOnlySet<int> afterCompaction)
    {
        var list = new List<PrefixCacheRequest>();
        string previous = "";
        for (int i = 0; i < requests.Count; i++)
        {
            string current = Serialize(requests[i]);
            int common = CommonPrefix(previous, current);
            list.Add(new PrefixCacheRequest(i, s_tokenizer.CountTokens(current), common == 0 ? 0 : s_tokenizer.CountTokens(current.AsSpan(0, common)), afterCompaction.Contains(i)));
            previous = current;
        }

        return list;
    }

    private static ChatResponse Call(int step, (string Name, object Args) call) =>
        new(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent($"call_{step}", call.Name,
            call.Args.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(call.Args)))]));

    private static ChatResponse Text(string text) => new(new ChatMessage(ChatRole.Assistant, text));

    private static int CommonPrefix(string a, string b) => a.AsSpan().CommonPrefixLength(b);

    private static string BuildContext()
    {
        string[] services = ["auth", "billing", "search", "gateway", "storage", "mailer"];
        string[] errors = ["timeout talking to db-7", "card declined by issuer", "index shard 3 unavailable", "upstream reset", "disk quota exceeded", "smtp 421 try later"];
        var text = new StringBuilder();
        for (int i = 0; i < 2_000; i++)
        {
            int s = (i * 7 + i / 13) % services.Length;
            string level = i % 25 == 0 ? "ERROR" : i % 7 == 0 ? "WARN" : "INFO";
            string message = level == "ERROR" ? errors[s] : $"request {i:D5} served in {(i * 37) % 900 + 12} ms";
            text.Append(CultureInfo.InvariantCulture, $"2025-03-{1 + i / 100:D2}T{i % 24:D2}:{i % 60:D2}:{(i * 13) % 60:D2}Z {level,-5} [{services[s],-8}] {message}").Append(' ', 20).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The scripted root: iteration n (its assistant replies so far) does step n; summary requests get a summary.</summary>
    private sealed class Root : IChatClient
    {
        private string _previous = "";

        public List<IReadOnlyList<ChatMessage>> MainRequests { get; } = [];

        public HashSet<int> AfterCompaction { get; } = [];

        public int SummaryRequests { get; private set; }

        private bool _compacted;

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var list = messages.ToList();
            string serialized = Serialize(list);
            int common = CommonPrefix(_previous, serialized);
            long input = s_tokenizer.CountTokens(serialized);
            long prefix = common == 0 ? 0 : s_tokenizer.CountTokens(serialized.AsSpan(0, common));
            long cached = prefix >= 1_024 ? prefix / 128 * 128 : 0;
            _previous = serialized;

            ChatResponse response;
            if (list[0].Text == ConversationCompactor.SummarizerPrompt)
            {
                SummaryRequests++;
                _compacted = true;
                response = Text("Findings so far: ERROR lines come from every service; auth errors are db-7 timeouts, billing errors are declined cards. Stored variable 'notes'. Left: count errors per service.");
            }
            else
            {
                if (_compacted)
                {
                    AfterCompaction.Add(MainRequests.Count);
                    _compacted = false;
                }

                MainRequests.Add(list);
                response = Step(MainRequests.Count, list);
            }

            response.Usage = new UsageDetails { InputTokenCount = input, CachedInputTokenCount = cached, OutputTokenCount = 60, TotalTokenCount = input + 60 };
            response.ModelId = "gpt-4.1";
            return Task.FromResult(response);
        }

        private static ChatResponse Step(int n, List<ChatMessage> request)
        {
            if (n >= Iterations)
            {
                return Call(n, ("final", new { answer = "auth and billing log the most errors (db-7 timeouts, declined cards)." }));
            }

            int offset = (n * 9_973) % (Context.Length - 4_000);
            return (n % 5) switch
            {
                0 => Call(n, ("grep", new { pattern = "ERROR.*\\[" + (n % 2 == 0 ? "auth" : "billing"), max_results = 40 })),
                1 => Call(n, ("peek", new { start = offset, end = offset + 6_000 })),
                2 => Call(n, ("sub_llm", new { query = $"Summarize the errors in this part (step {n}).", start = offset, end = offset + 8_000 })),
                3 => Call(n, ("exec_js", new { code = "const c = {}; for (const l of context.split('\\n')) { const m = /ERROR\\s+\\[(\\w+)/.exec(l); if (m) c[m[1]] = (c[m[1]] || 0) + 1; } JSON.stringify(c)" })),
                _ => Call(n, ("set_variable", new { name = "notes", value = $"after step {n}: {request.Count} messages read" })),
            };
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>A worker that answers each slice in two sentences, with usage.</summary>
    private sealed class Worker : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            int chars = messages.Sum(m => m.Text.Length);
            var response = Text($"The slice holds a few ERROR lines ({chars / 100} lines read); they are timeouts and declined cards. Nothing else stands out.");
            response.Usage = new UsageDetails { InputTokenCount = chars / 4, OutputTokenCount = 30, TotalTokenCount = chars / 4 + 30 };
            response.ModelId = "gpt-4.1-mini";
            return Task.FromResult(response);
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
