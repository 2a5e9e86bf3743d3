using System.Text.Json;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>A typed answer the model sends quoted (a JSON string holding an object) that does not fit: the model is told what is wrong inside the object.</summary>
public sealed class QuotedAnswerFormatTests
{
    private sealed record Place(string File, int Line);

    [Fact]
    public async Task QuotedObjectThatDoesNotFit_TheRetryNamesTheWrongMember_NotTheQuotes()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("final", new { answer = "{\"file\":\"a.cs\",\"line\":\"two\"}" })),
            _ => TestChatClient.Calls(("final", new { answer = "{\"file\":\"a.cs\",\"line\":2}" })));

        var result = await new RecursiveLanguageModel(root).QueryAsync<Place>("q", "int x = 1;\nreturn x;\n");

        Assert.Equal(new Place("a.cs", 2), result.Value);
        string told = Assert.Single(TestChatClient.LastToolResults(root.Requests[1]));
        Assert.Contains("does not match the required JSON schema", told, StringComparison.Ordinal);
        Assert.Contains("$.line", told, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuotedObject_WhenTheSchemaWantsAString_StaysTheString()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "{\"not\":\"parsed\"}" })));

        var result = await new RecursiveLanguageModel(root).QueryAsync<string>("q", "x\n");

        Assert.Equal("{\"not\":\"parsed\"}", result.Value);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(result.Answer).RootElement.ValueKind);
    }
}
