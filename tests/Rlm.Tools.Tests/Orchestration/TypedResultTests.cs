using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>Typed queries through the public API: the schema on <c>final</c>, the value, the retries and the typed exception.</summary>
public sealed class TypedResultTests
{
    private const string Context = "invoice 17: total 42.50 EUR\ninvoice 18: total 7.00 EUR\n";

    [Fact]
    public async Task QueryAsyncOfT_ValidAnswer_ReturnsValue_AndDeclaresFinalWithTheSchemaOfT()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("final", new { answer = new { number = 17, total = 42.5m, currency = "EUR", lines = new[] { "a", "b" } } })));

        var result = await new RecursiveLanguageModel(root).QueryAsync<Invoice>("Which invoice is largest?", Context);

        Assert.Equal((17, 42.5m, "EUR"), (result.Value.Number, result.Value.Total, result.Value.Currency));
        Assert.Equal(["a", "b"], result.Value.Lines);
        Assert.True(result.Result.IsFinal);
        Assert.Equal(0, result.Statistics.AnswerFormatRetries);
        using var answer = JsonDocument.Parse(result.Answer);
        Assert.Equal(17, answer.RootElement.GetProperty("number").GetInt32());

        // The schema is M.E.AI's for Invoice, under final's answer parameter.
        var expected = ChatResponseFormat.ForJsonSchema<Invoice>(new JsonSerializerOptions(AIJsonUtilities.DefaultOptions)).Schema!.Value;
        var final = Assert.Single(root.Options[0]!.Tools!.OfType<AIFunctionDeclaration>(), t => t.Name == "final");
        var declared = final.JsonSchema.GetProperty("properties").GetProperty("answer");
        Assert.Equal("object", declared.GetProperty("type").GetString());
        Assert.Equal(
            expected.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(),
            declared.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("number", declared.GetProperty("properties").GetProperty("total").GetProperty("type").GetString());
        Assert.False(declared.TryGetProperty("$schema", out _));
        Assert.Contains("answer", final.JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task QueryAsyncOfT_TextQuery_KeepsTheStringFinal()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "17" })));

        await new RecursiveLanguageModel(root).QueryAsync("Which invoice?", Context);

        var final = Assert.Single(root.Options[0]!.Tools!, t => t.Name == "final");
        Assert.Equal("string", ((AIFunctionDeclaration)final).JsonSchema.GetProperty("properties").GetProperty("answer").GetProperty("type").GetString());
    }

    [Fact]
    public async Task QueryAsyncOfT_InvalidAnswer_GoesBackAsToolError_ThenAValidOneIsTheValue()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("final", new { answer = new { number = "seventeen", total = 42.5m, currency = "EUR", lines = Array.Empty<string>() } })),
            _ => TestChatClient.Calls(("final", new { answer = new { number = 17, total = 42.5m, currency = "EUR", lines = Array.Empty<string>() } })));

        var result = await new RecursiveLanguageModel(root).QueryAsync<Invoice>("Which invoice?", [new RlmDocument("a.txt", Context)]);

        Assert.Equal(17, result.Value.Number);
        Assert.Equal(1, result.Statistics.AnswerFormatRetries);
        string error = Assert.Single(TestChatClient.LastToolResults(root.Requests[1]));
        Assert.StartsWith("Error: final: the answer does not match the required JSON schema:", error, StringComparison.Ordinal);
        Assert.Contains("$.number", error, StringComparison.Ordinal); // System.Text.Json's path of the bad member
        Assert.Contains("retry 1 of 2", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsyncOfT_AlwaysInvalid_RetriesThenThrowsRlmAnswerFormatException_WithTheRawAnswer()
    {
        var bad = new { number = 17, currency = "EUR", lines = Array.Empty<string>(), extra = true }; // an unknown member
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("final", new { answer = bad })),
            _ => TestChatClient.Calls(("final", new { answer = bad })),
            _ => TestChatClient.Calls(("final", new { answer = "not json at all" })));
        var options = new RlmOptions { MaxAnswerFormatRetries = 2 };

        var e = await Assert.ThrowsAsync<RlmAnswerFormatException>(() =>
            new RecursiveLanguageModel(root, options: options).QueryAsync<Invoice>("Which invoice?", RlmCorpus.FromText(Context)));

        Assert.Equal(3, root.Requests.Count); // two retries, then the third answer ends the run
        Assert.Equal("\"not json at all\"", e.RawAnswer);
        Assert.Equal(typeof(Invoice), e.TargetType);
        Assert.NotNull(e.Result);
        Assert.Equal(2, e.Result.Statistics.AnswerFormatRetries);
        Assert.Contains("after 2 retries", e.Message, StringComparison.Ordinal);
        Assert.Contains("extra", TestChatClient.LastToolResults(root.Requests[1]).Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsyncOfT_NoRetriesAllowed_ThrowsAtTheFirstInvalidAnswer()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = new { total = 1 } })));

        var e = await Assert.ThrowsAsync<RlmAnswerFormatException>(() =>
            new RecursiveLanguageModel(root, options: new RlmOptions { MaxAnswerFormatRetries = 0 }).QueryAsync<Invoice>("q", Context));

        Assert.Single(root.Requests);
        using var raw = JsonDocument.Parse(e.RawAnswer);
        Assert.Equal(1, raw.RootElement.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task QueryAsyncOfT_AnswerAsQuotedJson_OrFromFinalVar_IsAccepted()
    {
        var quoted = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "[3, 5, 8]" })));
        var numbers = await new RecursiveLanguageModel(quoted).QueryAsync<int[]>("q", Context);
        Assert.Equal(new[] { 3, 5, 8 }, numbers.Value);

        var fromVariable = new ScriptedChatClient(
            _ => TestChatClient.Calls(("set_variable", new { name = "n", value = "42" })),
            _ => TestChatClient.Calls(("final_var", new { name = "n" })));
        var result = await new RecursiveLanguageModel(fromVariable).QueryAsync<int>("q", Context);
        Assert.Equal(42, result.Value);
        Assert.Equal(RlmStopReason.FinalVariable, result.Result.StopReason);
    }

    [Fact]
    public void MaxAnswerFormatRetries_HasDefault2_AndRefusesOutOfRange()
    {
        Assert.Equal(2, new RlmOptions().MaxAnswerFormatRetries);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RlmOptions { MaxAnswerFormatRetries = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RlmOptions { MaxAnswerFormatRetries = 11 });
    }

    public sealed record Invoice(int Number, decimal Total, string Currency, string[] Lines);
}
