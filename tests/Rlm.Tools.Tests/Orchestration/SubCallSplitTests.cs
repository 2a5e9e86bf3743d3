using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// With <see cref="RlmOptions.AutoSplitOversizedSubCalls"/>, a leaf slice over the worker's window is split at line breaks
/// into parts that each fit; the scripted worker records every prompt, so the test counts what reached it.
/// </summary>
public sealed partial class SubCallSplitTests
{
    private static readonly Tokenizer s_tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");

    private static RlmOptions Tiny(bool split = true) => new()
    {
        WorkerModelId = "tiny-worker",
        ModelContextWindows = new Dictionary<string, int> { ["tiny-worker"] = 2_000 },
        SubCallOutputReserveTokens = 500,
        AutoSplitOversizedSubCalls = split,
    };

    /// <summary>A worker that answers with the first line of the slice it was given.</summary>
    private static TestChatClient EchoWorker() => new()
    {
        GetResponseAsyncCallback = (messages, _, _) => Task.FromResult(TestChatClient.Text("saw: " + SliceOf(messages).Split('\n')[0])),
    };

    private static string SliceOf(IReadOnlyList<ChatMessage> messages) => ContextPart().Match(messages[^1].Text).Groups[1].Value;

    private static int Tokens(IReadOnlyList<ChatMessage> messages) => messages.Sum(m => s_tokenizer.CountTokens(m.Text) + 4);

    [Fact]
    public async Task OversizedSlice_IsSplitAtLineBreaks_EachPartFits_AndTheAnswersAreJoinedInOrder()
    {
        string log = BuildLog(4_000);
        var worker = EchoWorker();
        var events = new List<RlmEvent>();
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "What happened?", start = 0, end = 40_000 })));
        var options = Tiny();
        options.Progress = new SyncProgress(events);
        var result = await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", log);

        var requests = worker.Requests;
        int sliceTokens = s_tokenizer.CountTokens(log.AsSpan(0, 40_000));
        Assert.InRange(requests.Count, (sliceTokens / 1_500) + 1, 40);
        Assert.All(requests, r => Assert.InRange(Tokens(r.Messages), 1, 1_500));

        // The parts, in document order, are the slice: every part but the last ends at a line break.
        var slices = requests.Select(r => SliceOf(r.Messages)).OrderBy(s => log.IndexOf(s, StringComparison.Ordinal)).ToList();
        Assert.Equal(log[..40_000], string.Concat(slices));
        Assert.All(slices.SkipLast(1), s => Assert.EndsWith("\n", s, StringComparison.Ordinal));

        string combined = TestChatClient.LastToolResults(root.Requests[1])[0];
        int n = requests.Count;
        Assert.Contains($"split at line breaks into {n} parts", combined);
        Assert.Contains($"[part 1/{n}, lines 1–", combined);
        Assert.Contains($"[part {n}/{n}, lines ", combined);
        Assert.Contains("saw: " + log.Split('\n')[0], combined);
        Assert.True(combined.IndexOf($"[part 1/{n},", StringComparison.Ordinal) < combined.IndexOf($"[part 2/{n},", StringComparison.Ordinal));

        Assert.Equal("done", result.Answer);
        Assert.Equal(1, result.Statistics.SplitSubCalls);
        Assert.Equal(n, result.Statistics.SubCalls);
        var split = Assert.Single(events.OfType<RlmSubCallSplit>());
        Assert.Equal(n, split.Parts);
        Assert.Equal(1_500, split.LimitTokens);
        Assert.Equal("tiny-worker", split.ModelId);
        Assert.Contains(Descendants(result.Trajectory), node => node.Label.StartsWith("split sub-call", StringComparison.Ordinal) && node.Children.Count == n);
    }

    [Fact]
    public async Task Off_TheOversizedSliceIsStillRefused()
    {
        var worker = EchoWorker();
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "What happened?", start = 0, end = 40_000 })));
        var result = await new RecursiveLanguageModel(root, worker, Tiny(split: false)).QueryAsync("q?", BuildLog(4_000));

        Assert.Empty(worker.Requests);
        Assert.Contains("The largest slice that fits has about", TestChatClient.LastToolResults(root.Requests[1])[0]);
        Assert.Equal(0, result.Statistics.SplitSubCalls);
    }

    [Fact]
    public async Task ALineLongerThanTheLimit_IsCutInsideTheLine_AndNothingOversizedIsSent()
    {
        var text = new StringBuilder("short first line\n");
        for (int i = 0; text.Length < 30_000; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"token{i} ");
        }

        text.Append("\nlast line\n");
        string context = text.ToString();
        var worker = EchoWorker();
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "What is here?", start = 0, end = context.Length })));
        var result = await new RecursiveLanguageModel(root, worker, Tiny()).QueryAsync("q?", context);

        var requests = worker.Requests;
        Assert.True(requests.Count >= 3);
        Assert.All(requests, r => Assert.InRange(Tokens(r.Messages), 1, 1_500));
        var slices = requests.Select(r => SliceOf(r.Messages)).OrderBy(s => context.IndexOf(s, StringComparison.Ordinal)).ToList();
        Assert.Equal(context, string.Concat(slices));
        Assert.Contains(slices, s => !s.EndsWith('\n')); // the long line was cut inside
        Assert.Contains("[part 2/", TestChatClient.LastToolResults(root.Requests[1])[0]);
        Assert.Contains(", line 2]", TestChatClient.LastToolResults(root.Requests[1])[0]); // a part inside line 2 only
        Assert.Equal("done", result.Answer);
    }

    [Fact]
    public async Task AFailedPart_IsReportedInItsPlace()
    {
        int calls = 0;
        var worker = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, _, _) => SliceOf(messages).StartsWith("2025-01-01 10:00:00 worker 0 handled request 0 ", StringComparison.Ordinal)
                ? throw new InvalidOperationException("boom")
                : Task.FromResult(TestChatClient.Text("ok " + Interlocked.Increment(ref calls))),
        };
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 20_000 })));
        var options = Tiny();
        options.MaxModelRetries = 0;
        await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", BuildLog(4_000));

        string combined = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.Matches(@"\[part 1/\d+, lines 1–[\d,]+\] failed: ", combined);
        Assert.Contains("[part 2/", combined);
        Assert.DoesNotContain("Error:", combined[..10]); // the sub-call as a whole succeeded
    }

    [Fact]
    public async Task MorePartsThanSubCallsLeft_IsRefusedWithoutARequest()
    {
        var worker = EchoWorker();
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 40_000 })));
        var options = Tiny();
        options.MaxSubCalls = 3;
        await new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", BuildLog(4_000));

        Assert.Empty(worker.Requests);
        Assert.Contains("Splitting it would take more than 3 parts", TestChatClient.LastToolResults(root.Requests[1])[0]);
    }

    [Fact]
    public async Task ANamedWorker_AnswersEveryPart_CheckedAgainstItsOwnWindow()
    {
        var small = EchoWorker();
        var fallback = EchoWorker();
        var options = new RlmOptions { SubCallOutputReserveTokens = 500, AutoSplitOversizedSubCalls = true };
        options.Workers.Add(new RlmWorker("small", small, "small-m", contextWindow: 2_000));
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 20_000, model = "small" })));
        await new RecursiveLanguageModel(root, fallback, options).QueryAsync("q?", BuildLog(4_000));

        Assert.Empty(fallback.Requests);
        Assert.True(small.Requests.Count >= 2);
        Assert.All(small.Requests, r => Assert.InRange(Tokens(r.Messages), 1, 1_500));
        Assert.All(small.Requests, r => Assert.Equal("small-m", r.Options?.ModelId));
        Assert.Contains("the worker 'small-m''s limit of 1,500 tokens", TestChatClient.LastToolResults(root.Requests[1])[0]);
    }

    [Fact]
    public async Task InACorpus_EachPartsLabelNamesItsDocumentLines()
    {
        var corpus = RlmCorpus.FromDocuments([new RlmDocument("a.log", BuildLog(200)), new RlmDocument("b.log", BuildLog(200))]);
        var worker = EchoWorker();
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 1_000_000 })));
        await new RecursiveLanguageModel(root, worker, Tiny()).QueryAsync("q?", corpus);

        string combined = TestChatClient.LastToolResults(root.Requests[1])[0];
        Assert.Matches(@"\[part 1/\d+, lines 1–[\d,]+, a\.log:1–[\d,]+\]", combined);
        Assert.Matches(@"\[part \d+/\d+, lines [\d,]+–[\d,]+, a\.log:[\d,]+–b\.log:[\d,]+\]", combined); // the part across the boundary
    }

    [Fact]
    public void Default_IsOff() => Assert.False(new RlmOptions().AutoSplitOversizedSubCalls);

    private static IEnumerable<RlmTraceNode> Descendants(RlmTraceNode node) => node.Children.SelectMany(c => Descendants(c).Prepend(c));

    private static string BuildLog(int lines)
    {
        var text = new StringBuilder();
        for (int i = 0; i < lines; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"2025-01-01 10:{i % 60:00}:00 worker {i % 7} handled request {i} in {i % 113} ms\n");
        }

        return text.ToString();
    }

    [GeneratedRegex(@"<context characters=""\d+"">\n(.*)\n</context>$", RegexOptions.Singleline)]
    private static partial Regex ContextPart();

    private sealed class SyncProgress(List<RlmEvent> events) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value)
        {
            lock (events)
            {
                events.Add(value);
            }
        }
    }
}
