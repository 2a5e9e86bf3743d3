using Microsoft.Extensions.AI;
using Rlm.Tools.Orchestration;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public class ConversationBudgetTests
{
    [Fact]
    public async Task LongRun_OldestToolResultsAreElided_LatestKeptWhole_RequestsStayUnderTheLimit()
    {
        string context = new string('a', 3_000) + new string('b', 3_000) + new string('c', 3_000) + new string('d', 3_000);
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("peek", new { start = 0, end = 3_000 })),
            _ => TestChatClient.Calls(("peek", new { start = 3_000, end = 6_000 })),
            _ => TestChatClient.Calls(("peek", new { start = 6_000, end = 9_000 })),
            _ => TestChatClient.Calls(("peek", new { start = 9_000, end = 12_000 })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions { MaxConversationChars = 12_000, RootSystemPrompt = "Short prompt.", CompactConversations = false };
        await new RecursiveLanguageModel(root, options: options).QueryAsync("q", context);

        var last = root.Requests[^1];
        Assert.True(last.Sum(ConversationBudget.Size) <= 12_000, $"request holds {last.Sum(ConversationBudget.Size)} characters");
        var results = last.Where(m => m.Role == ChatRole.Tool).Select(m => m.Contents.OfType<FunctionResultContent>().Single().Result!.ToString()!).ToList();
        Assert.Equal(4, results.Count);
        Assert.StartsWith(ConversationBudget.ElidedPrefix, results[0]);
        Assert.Contains("3,0", results[0]); // the note says how long the result was
        Assert.EndsWith(new string('d', 100), results[^1]);
        // The earliest request was not touched: trimming happens only when needed.
        Assert.Contains(root.Requests[1], m => m.Role == ChatRole.Tool && m.Contents.OfType<FunctionResultContent>().Single().Result!.ToString()!.EndsWith(new string('a', 100), StringComparison.Ordinal));
    }

    [Fact]
    public void Trim_UnderTheLimit_ChangesNothing()
    {
        var messages = new List<ChatMessage>
        {
            new(ChatRole.User, "q"),
            new(ChatRole.Tool, [new FunctionResultContent("c1", new string('x', 500))]),
            new(ChatRole.Tool, [new FunctionResultContent("c2", new string('y', 500))]),
        };
        Assert.Equal(0, ConversationBudget.Trim(messages, 2_000));
        Assert.Equal(new string('x', 500), ((FunctionResultContent)messages[1].Contents[0]).Result);
    }

    [Fact]
    public void Trim_NeverTouchesTheLatestToolMessage()
    {
        var messages = new List<ChatMessage>
        {
            new(ChatRole.Tool, [new FunctionResultContent("c1", new string('x', 5_000))]),
            new(ChatRole.Tool, [new FunctionResultContent("c2", new string('y', 5_000))]),
        };
        Assert.Equal(1, ConversationBudget.Trim(messages, 1_000));
        Assert.Equal(new string('y', 5_000), ((FunctionResultContent)messages[1].Contents[0]).Result);
    }
}
