using System.Text;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Middleware;

/// <summary>The middleware's answer carries the host's check of its citations in <see cref="ChatMessage.AdditionalProperties"/>.</summary>
public sealed class RlmChatClientCitationTests
{
    private const string Answer = "The limit is 42 (build.log:2 \"limit is 42\"); see also build.log:9.";

    [Fact]
    public async Task GetResponseAsync_AnswerMessage_HasTheCheckedCitations()
    {
        using var client = new ChatClientBuilder(new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = Answer })))).UseRecursiveLanguageModel().Build();

        var response = await client.GetResponseAsync(Request(), Marked());

        var citations = Assert.IsAssignableFrom<IReadOnlyList<RlmCitation>>(Assert.Single(response.Messages).AdditionalProperties![RlmChatClient.CitationsPropertyKey]);
        AssertChecked(citations);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_AnswerUpdate_HasTheCheckedCitations()
    {
        var root = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Calls(("final", new { answer = Answer }))) };
        using var client = new ChatClientBuilder(root).UseRecursiveLanguageModel(o => o.RlmOptions = new RlmOptions { StreamRootResponses = false }).Build();

        var updates = await client.GetStreamingResponseAsync(Request(), Marked()).ToListAsync();

        var answer = Assert.Single(updates, u => u.AdditionalProperties?.ContainsKey(RlmChatClient.CitationsPropertyKey) == true);
        AssertChecked(Assert.IsAssignableFrom<IReadOnlyList<RlmCitation>>(answer.AdditionalProperties![RlmChatClient.CitationsPropertyKey]));
    }

    private static void AssertChecked(IReadOnlyList<RlmCitation> citations)
    {
        Assert.Equal(2, citations.Count);
        Assert.True(citations[0].Verified, citations[0].Reason);
        Assert.Equal(("build.log", 2), (citations[0].Document, citations[0].Line));
        Assert.False(citations[1].Verified);
        Assert.Equal("build.log has 2 lines; line 9 does not exist", citations[1].Reason);
    }

    private static ChatMessage[] Request() =>
    [
        new(ChatRole.User, [new TextContent("What is the limit?"), new DataContent(Encoding.UTF8.GetBytes("step 1 ok\nthe limit is 42\n"), "text/plain") { Name = "build.log" }]),
    ];

    private static ChatOptions Marked() => new() { AdditionalProperties = new() { [RlmChatClient.UseRlmPropertyKey] = true } };
}
