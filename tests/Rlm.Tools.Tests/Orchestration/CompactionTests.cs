using Microsoft.Extensions.AI;
using Rlm.Tools.Orchestration;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public class CompactionTests
{
    private static readonly string s_context = string.Concat(Enumerable.Range(0, 12).Select(i => $"PART{i:D2} " + new string((char)('a' + i), 2_992) + "\n"));

    /// <summary>
    /// A root that peeks the context 3,000 characters at a time (marker PART00, PART01, …), then reads the history
    /// variable, then answers; summary requests (no tools, the summarizer prompt) get <paramref name="summary"/>.
    /// </summary>
    private static TestChatClient Root(Func<IReadOnlyList<ChatMessage>, ChatResponse> summary, int peeks = 10)
    {
        int step = 0;
        var root = new TestChatClient();
        root.GetResponseAsyncCallback = (messages, options, _) =>
        {
            if (messages[0].Text == ConversationCompactor.SummarizerPrompt)
            {
                return Task.FromResult(summary(messages));
            }

            step++;
            var usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 10 };
            return Task.FromResult(step <= peeks
                ? TestChatClient.Calls(usage, ("peek", new { start = (step - 1) * 3_000, end = step * 3_000 }))
                : step == peeks + 1
                    ? TestChatClient.Calls(usage, ("exec_js", new { code = "const h = get_variable('history'); [h.includes('PART00'), h.length].join(' ')" }))
                    : TestChatClient.Calls(usage, ("final", new { answer = "done" })));
        };
        return root;
    }

    private static List<IReadOnlyList<ChatMessage>> MainRequests(TestChatClient root) =>
        [.. root.Requests.Where(r => r.Messages[0].Text != ConversationCompactor.SummarizerPrompt).Select(r => r.Messages)];

    [Fact]
    public async Task OverTheLimit_OldestMessagesAreSummarizedOnce_TaskAndLatestKept_HistoryVariableHoldsEverything()
    {
        var root = Root(_ => TestChatClient.Text("SUMMARY: parts 0 to 5 are filler letters.", new UsageDetails { InputTokenCount = 500, OutputTokenCount = 20 }));
        var options = new RlmOptions { MaxConversationChars = 20_000, RootSystemPrompt = "Short prompt.", RootModelId = "gpt-4.1" };
        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("What is in the parts?", s_context);

        Assert.Equal("done", result.Answer);
        var summaryRequests = root.Requests.Where(r => r.Messages[0].Text == ConversationCompactor.SummarizerPrompt).ToList();
        Assert.Single(summaryRequests);
        Assert.True(summaryRequests[0].Options?.Tools is null or { Count: 0 });
        Assert.Contains("PART00", summaryRequests[0].Messages[1].Text); // the oldest results are what it summarizes
        Assert.Contains("What is in the parts?", summaryRequests[0].Messages[1].Text);
        Assert.Equal(1, result.Statistics.Compactions);

        var requests = MainRequests(root);
        foreach (var request in requests)
        {
            Assert.True(request.Sum(ConversationBudget.Size) <= 20_000, $"{request.Sum(ConversationBudget.Size)} characters sent");
            Assert.Equal("Short prompt.", request[0].Text);
            Assert.Contains("What is in the parts?", request[1].Text);

            // Never a result without its call.
            var calls = request.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Select(c => c.CallId).ToHashSet();
            Assert.All(request.SelectMany(m => m.Contents).OfType<FunctionResultContent>(), r => Assert.Contains(r.CallId, calls));
            Assert.Equal(ChatRole.Tool, request.SkipWhile(m => m.Role != ChatRole.Assistant).Skip(1).FirstOrDefault()?.Role ?? ChatRole.Tool);
        }

        var compacted = requests.First(r => r.Any(m => m.Text.StartsWith(ConversationCompactor.SummaryPrefix, StringComparison.Ordinal)));
        var summary = compacted[2];
        Assert.Equal(ChatRole.User, summary.Role);
        Assert.Contains("SUMMARY: parts 0 to 5 are filler letters.", summary.Text);
        Assert.Contains("'history'", summary.Text);
        Assert.DoesNotContain(compacted, m => m.Contents.OfType<FunctionResultContent>().Any(r => r.Result!.ToString()!.Contains("PART00", StringComparison.Ordinal)));

        // The model can still read every result in full: exec_js found PART00 in the history variable.
        var js = TestChatClient.LastToolResults(requests[^1]).Single();
        Assert.StartsWith("=> true ", js);
        Assert.True(int.Parse(js["=> true ".Length..], System.Globalization.CultureInfo.InvariantCulture) > 20_000);

        // The summary request is a counted model call: usage, cost and the trajectory have it.
        Assert.Equal(12 + 1, result.Statistics.ModelCalls);
        Assert.Equal(12 * 100 + 500, result.Usage.InputTokenCount);
        Assert.Contains(result.Trajectory.Children, n => n.Kind == RlmTraceKind.ModelCall && n.Label.StartsWith("compaction", StringComparison.Ordinal) && n.Usage?.InputTokenCount == 500);
    }

    [Fact]
    public async Task SummaryRequestFails_FallsBackToTheCut_RunCompletes()
    {
        var root = Root(_ => throw new HttpRequestException("boom", null, System.Net.HttpStatusCode.BadRequest));
        var options = new RlmOptions { MaxConversationChars = 20_000, RootSystemPrompt = "Short prompt.", MaxModelRetries = 0 };
        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("What is in the parts?", s_context);

        Assert.Equal("done", result.Answer);
        Assert.True(result.Statistics.Compactions >= 1);
        Assert.Equal(1, result.Statistics.FailedModelCalls);
        var requests = MainRequests(root);
        Assert.All(requests, r => Assert.True(r.Sum(ConversationBudget.Size) <= 20_000));
        Assert.Contains(requests[^1], m => m.Contents.OfType<FunctionResultContent>().Any(r => r.Result!.ToString()!.StartsWith(ConversationBudget.ElidedPrefix, StringComparison.Ordinal)));
        Assert.DoesNotContain(requests[^1], m => m.Text.StartsWith(ConversationCompactor.SummaryPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CompactConversationsOff_CutsOnceToTheTarget_NoSummaryRequest()
    {
        var root = Root(_ => throw new InvalidOperationException("no summary expected"));
        var options = new RlmOptions { MaxConversationChars = 20_000, RootSystemPrompt = "Short prompt.", CompactConversations = false, CompactionTargetPercent = 50 };
        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("What is in the parts?", s_context);

        Assert.Equal("done", result.Answer);
        Assert.DoesNotContain(root.Requests, r => r.Messages[0].Text == ConversationCompactor.SummarizerPrompt);
        var requests = MainRequests(root);

        // One rewrite brings the conversation to about half the limit; the requests after it extend it unchanged.
        int rewrites = 0;
        for (int i = 1; i < requests.Count; i++)
        {
            if (!PrefixCacheDrill.Serialize(requests[i]).StartsWith(PrefixCacheDrill.Serialize(requests[i - 1]), StringComparison.Ordinal))
            {
                rewrites++;
                Assert.True(requests[i].Sum(ConversationBudget.Size) <= 10_000 + 3_500, $"{requests[i].Sum(ConversationBudget.Size)} characters after the cut");
            }
        }

        Assert.Equal(result.Statistics.Compactions, rewrites);
        Assert.InRange(rewrites, 1, 2);
    }

    [Fact]
    public async Task Compaction_IsAnEventOfTheStream()
    {
        var root = Root(_ => TestChatClient.Text("SUMMARY"));
        var options = new RlmOptions { MaxConversationChars = 20_000, RootSystemPrompt = "Short prompt." };
        var events = new List<RlmEvent>();
        await foreach (var e in new RecursiveLanguageModel(root, options: options).QueryStreamingAsync("What is in the parts?", s_context))
        {
            events.Add(e);
        }

        var compacted = Assert.Single(events.OfType<RlmConversationCompacted>());
        Assert.True(compacted.Summarized);
        Assert.Equal(0, compacted.Depth);
        Assert.True(compacted.CharsBefore > 20_000);
        Assert.True(compacted.CharsAfter <= 10_000 + 3_500, $"{compacted.CharsAfter}");
    }

    [Fact]
    public async Task Compactor_UnderTheLimit_ReturnsTheSameMessages()
    {
        var compactor = new ConversationCompactor(1_000, 50, (_, _) => throw new InvalidOperationException(), _ => { });
        List<ChatMessage> messages = [new(ChatRole.System, "s"), new(ChatRole.User, "q")];
        Assert.Same(messages, await compactor.ReduceAsync(messages, CancellationToken.None));
    }
}
