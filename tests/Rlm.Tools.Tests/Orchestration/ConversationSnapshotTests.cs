using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public sealed class ConversationSnapshotTests
{
    [Fact]
    public async Task Snapshot_ThroughJson_ContinuesTheConversation_WithItsVariablesTurnsAndUsage()
    {
        var usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 1 };
        var firstRoot = new ScriptedChatClient(
            _ => TestChatClient.Calls(usage, ("set_variable", new { name = "count", value = "42" })),
            _ => TestChatClient.Calls(usage, ("final", new { answer = "forty-two" })));
        var corpus = RlmCorpus.FromText("some context\n");
        string json;
        using (var first = new RlmConversation(new RecursiveLanguageModel(firstRoot), corpus))
        {
            await first.AskAsync("How many?");
            json = JsonSerializer.Serialize(await first.ToSnapshotAsync(), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        }

        // Another "process": a new model and conversation, from the JSON alone.
        var secondRoot = new ScriptedChatClient(
            _ => TestChatClient.Calls(usage, ("get_variable", new { name = "count" })),
            _ => TestChatClient.Calls(usage, ("final", new { answer = "still 42" })));
        var snapshot = JsonSerializer.Deserialize<RlmConversationSnapshot>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        using var second = new RlmConversation(new RecursiveLanguageModel(secondRoot), corpus, snapshot);
        var answer = await second.AskAsync("And now?");

        Assert.Equal("still 42", answer.Answer);
        Assert.Equal("42", TestChatClient.LastToolResults(secondRoot.Requests[1])[0]);
        Assert.Contains("Q1: How many?", secondRoot.Requests[0][1].Text);
        Assert.Equal([new RlmConversationTurn("How many?", "forty-two"), new RlmConversationTurn("And now?", "still 42")], second.Turns);
        Assert.Equal(40, second.Usage.InputTokenCount);
    }

    [Fact]
    public async Task Snapshot_OfANewConversation_IsEmpty_AndANullTurnIsRefused()
    {
        var rlm = new RecursiveLanguageModel(new ScriptedChatClient());
        using var conversation = new RlmConversation(rlm, RlmCorpus.FromText("x\n"));
        var snapshot = await conversation.ToSnapshotAsync();

        Assert.Empty(snapshot.Turns);
        Assert.Empty(snapshot.Variables);
        Assert.Equal(0, snapshot.CostUsd);
        Assert.Throws<ArgumentNullException>(() => new RlmConversation(rlm, RlmCorpus.FromText("x\n"), new RlmConversationSnapshot { Turns = [null!] }));
    }
}
