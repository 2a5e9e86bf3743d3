using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary><c>AsAIFunction</c> with <see cref="RlmCorpusToolOptions.OutputSchema"/>: declared, enforced inside, retried, then a typed failure.</summary>
public sealed class AgentToolOutputSchemaTests
{
    private static readonly JsonElement s_schema = ChatResponseFormat.ForJsonSchema<Count>(AIJsonUtilities.DefaultOptions).Schema!.Value;

    [Fact]
    public async Task OutputSchema_IsDeclaredAsTheAnswersContentSchema_AndTheInnerFinalIsHeldToIt()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("final", new { answer = new { errors = "two" } })),
            _ => TestChatClient.Calls(("final", new { answer = new { errors = 2 } })));
        var tool = new RecursiveLanguageModel(root).AsAIFunction(RlmCorpus.FromText("ERROR a\nERROR b\n"), new RlmCorpusToolOptions { OutputSchema = s_schema });

        var answer = tool.ReturnJsonSchema!.Value.GetProperty("properties").GetProperty("answer");
        Assert.Equal("application/json", answer.GetProperty("contentMediaType").GetString());
        Assert.Equal("integer", answer.GetProperty("contentSchema").GetProperty("properties").GetProperty("errors").GetProperty("type").GetString());

        var value = await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "How many errors?" });

        var result = Assert.IsType<JsonElement>(value);
        using var json = JsonDocument.Parse(result.GetProperty("answer").GetString()!);
        Assert.Equal(2, json.RootElement.GetProperty("errors").GetInt32());
        Assert.StartsWith("Error: final: the answer does not match", TestChatClient.LastToolResults(root.Requests[1]).Single(), StringComparison.Ordinal);
        var final = Assert.Single(root.Options[0]!.Tools!.OfType<AIFunctionDeclaration>(), t => t.Name == "final");
        Assert.Equal("integer", final.JsonSchema.GetProperty("properties").GetProperty("answer").GetProperty("properties").GetProperty("errors").GetProperty("type").GetString());
    }

    [Fact]
    public async Task OutputSchema_AnswerNeverValid_CallThrowsRlmAnswerFormatException()
    {
        var root = new ScriptedChatClient(_ => TestChatClient.Calls(("final", new { answer = "two" })));
        var tool = new RecursiveLanguageModel(root, options: new RlmOptions { MaxAnswerFormatRetries = 0 })
            .AsAIFunction(RlmCorpus.FromText("ERROR a\n"), new RlmCorpusToolOptions { OutputSchema = s_schema });

        var e = await Assert.ThrowsAsync<RlmAnswerFormatException>(async () => await tool.InvokeAsync(new AIFunctionArguments { ["question"] = "How many?" }));

        Assert.Equal("\"two\"", e.RawAnswer);
    }

    public sealed record Count(int Errors);
}
