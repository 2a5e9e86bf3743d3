using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public sealed class ConversationTests
{
    [Fact]
    public async Task Conversation_KeepsVariablesAndJsGlobals_ShowsEarlierTurns_AndSumsUsage()
    {
        var usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 1 };
        var root = new ScriptedChatClient(
            // Question 1: keep a variable and a JavaScript global, then answer.
            _ => TestChatClient.Calls(usage, ("set_variable", new { name = "count", value = "42" }), ("exec_js", new { code = "var seen = ['first'];" })),
            _ => TestChatClient.Calls(usage, ("final", new { answer = "forty-two" })),
            // Question 2: read both back.
            _ => TestChatClient.Calls(usage, ("get_variable", new { name = "count" }), ("exec_js", new { code = "seen.push('second'); seen.join('+')" })),
            _ => TestChatClient.Calls(usage, ("final", new { answer = "still 42" })));
        using var conversation = new RlmConversation(new RecursiveLanguageModel(root), RlmCorpus.FromText("some context\n"));

        var first = await conversation.AskAsync("How many?");
        var second = await conversation.AskAsync("And now?");

        Assert.Equal("forty-two", first.Answer);
        Assert.Equal("still 42", second.Answer);
        var results = TestChatClient.LastToolResults(root.Requests[3]);
        Assert.Equal("42", results[0]);
        Assert.Equal("=> first+second", results[1]);

        // The second question's task shows the first turn.
        string task = root.Requests[2][1].Text;
        Assert.Contains("Q1: How many?", task);
        Assert.Contains("A1: forty-two", task);
        Assert.DoesNotContain("earlier_questions", root.Requests[0][1].Text);

        Assert.Equal([new RlmConversationTurn("How many?", "forty-two"), new RlmConversationTurn("And now?", "still 42")], conversation.Turns);
        Assert.Equal(40, conversation.Usage.InputTokenCount);
    }

    [Fact]
    public async Task Conversation_EarlierTurnsThatNoLongerFit_AreAllInTheEarlierTurnsVariable()
    {
        string longAnswer = new('x', 6_000);
        var plan = new List<Func<IReadOnlyList<ChatMessage>, ChatResponse>>();
        for (int i = 0; i < 4; i++)
        {
            plan.Add(_ => TestChatClient.Calls(("final", new { answer = longAnswer })));
        }

        plan.Add(_ => TestChatClient.Calls(("exec_js", new { code = "const t = get_variable('earlier_turns'); [t.startsWith('Q1: question 1'), t.includes('Q4: question 4'), t.length].join(' ')" })));
        plan.Add(_ => TestChatClient.Calls(("final", new { answer = "read" })));
        var root = new ScriptedChatClient([.. plan]);
        using var conversation = new RlmConversation(new RecursiveLanguageModel(root), RlmCorpus.FromText("some context\n"));

        for (int i = 1; i <= 5; i++)
        {
            await conversation.AskAsync($"question {i}");
        }

        string task = root.Requests[4][1].Text;
        Assert.Contains("earlier turns omitted", task);
        Assert.Contains("'earlier_turns'", task);
        Assert.DoesNotContain("Q1: question 1", task);
        string js = TestChatClient.LastToolResults(root.Requests[5]).Single();
        Assert.StartsWith("=> true true ", js);
        Assert.True(int.Parse(js["=> true true ".Length..], System.Globalization.CultureInfo.InvariantCulture) > 24_000);
    }

    [Fact]
    public async Task Conversation_AQuestionWhoseRootModelFails_IsNoTurn_ButItsTokensCount()
    {
        var usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 1 };
        var root = new ScriptedChatClient(
            // Question 1 spends one answered request, then its root model fails for good (a 400 is not retried).
            _ => TestChatClient.Calls(usage, ("peek", new { start = 0, end = 4 })),
            _ => throw new HttpRequestException("bad request", null, System.Net.HttpStatusCode.BadRequest),
            // Question 2 is answered.
            _ => TestChatClient.Calls(usage, ("final", new { answer = "fine" })));
        using var conversation = new RlmConversation(new RecursiveLanguageModel(root, options: new RlmOptions { MaxModelRetries = 0 }), RlmCorpus.FromText("some context\n"));

        var failed = await Assert.ThrowsAsync<RlmModelException>(() => conversation.AskAsync("first?"));
        var second = await conversation.AskAsync("second?");

        Assert.Equal(10, failed.PartialResult!.Usage.InputTokenCount);
        Assert.Equal("fine", second.Answer);
        Assert.Equal([new RlmConversationTurn("second?", "fine")], conversation.Turns);
        Assert.Equal(20, conversation.Usage.InputTokenCount); // the failed question's 10 and the answered one's 10
    }
}
