using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.Offline;

public class OfflineChatClientTests
{
    private static string Haystack(int lines, int needleAt, string needle)
    {
        var words = new[] { "river", "stone", "cloud", "amber", "forest", "signal", "harbor", "meadow" };
        return string.Concat(Enumerable.Range(0, lines).Select(i => i == needleAt ? needle + "\n" : $"{words[i % 8]} {words[(i * 3) % 8]} report {i}\n"));
    }

    [Fact]
    public async Task Offline_AsRoot_DrivesTheRealTools_AndFindsTheNeedle()
    {
        string context = Haystack(20_000, 14_321, "The launch code for project Bluebird is 7781-ALPHA.");
        var offline = new OfflineChatClient();
        var result = await new RecursiveLanguageModel(offline).QueryAsync("What is the launch code for project Bluebird?", context);

        Assert.True(result.IsFinal);
        Assert.StartsWith(OfflineChatClient.AnswerPrefix, result.Answer);
        Assert.Contains("7781-ALPHA", result.Answer);
        Assert.True(result.Statistics.ToolCalls["grep"] >= 2);
        Assert.Equal(1, result.Statistics.ToolCalls["chunk"]);
        Assert.True(result.Statistics.ToolCalls["sub_llm"] >= 1);
        Assert.Equal(1, result.Statistics.MaxDepthReached);
        Assert.True(result.Usage.InputTokenCount > 0);
    }

    [Fact]
    public async Task Offline_MultiDocument_AnswerNamesTheDocument()
    {
        var docs = Enumerable.Range(0, 30).Select(i => new RlmDocument($"src/File{i}.cs", $"namespace N;\ninternal sealed class Thing{i}\n{{\n}}\n")).ToList();
        docs.Insert(17, new RlmDocument("src/Deep/WidgetFactory.cs", "namespace N;\npublic sealed class WidgetFactory\n{\n}\n"));
        var result = await new RecursiveLanguageModel(new OfflineChatClient()).QueryAsync("Which file declares the class WidgetFactory?", docs);

        Assert.Contains("src/Deep/WidgetFactory.cs:2", result.Answer);
    }

    [Fact]
    public async Task Offline_AtDepth2_RecursesThroughWorkerSessions()
    {
        string context = Haystack(40_000, 31_000, "Quartermaster Ellison signed the Halvard treaty.");
        var result = await new RecursiveLanguageModel(new OfflineChatClient(), options: new RlmOptions { MaxDepth = 2 })
            .QueryAsync("Who signed the Halvard treaty?", context);

        Assert.Contains("Quartermaster Ellison", result.Answer);
        Assert.Equal(2, result.Statistics.MaxDepthReached);
        Assert.True(result.Statistics.Iterations > result.Statistics.RootIterations);
    }

    [Fact]
    public async Task Offline_AsLeaf_AnswersExtractivelyFromItsSlice()
    {
        var client = new OfflineChatClient();
        var found = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "<question>\nWhat colour is the kettle?\n</question>\n\n<context characters=\"40\">\nthe sofa is grey\nthe kettle is teal\n</context>")]);
        var missing = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "<question>\nWhere is the lighthouse?\n</question>\n\n<context characters=\"10\">\nno match\n</context>")]);

        Assert.Equal($"{OfflineChatClient.AnswerPrefix} the kettle is teal", found.Text);
        Assert.Equal($"{OfflineChatClient.AnswerPrefix} not found in this slice.", missing.Text);
        Assert.Equal(OfflineChatClient.ModelId, found.ModelId);
    }

    [Fact]
    public async Task Offline_OneLineHaystack_StillFindsTheNeedle()
    {
        string context = string.Concat(Enumerable.Repeat("The grass is green. The sky is blue. The sun is yellow. ", 3_000))
            + "One of the special magic numbers for shiny-otter is: 5551234. "
            + string.Concat(Enumerable.Repeat("The grass is green. The sky is blue. The sun is yellow. ", 3_000));
        var result = await new RecursiveLanguageModel(new OfflineChatClient()).QueryAsync("What is the special magic number for shiny-otter?", context);

        Assert.Contains("5551234", result.Answer);
    }

    [Fact]
    public async Task Offline_AsLeaf_SliceMentioningTheLastCallPhrase_StillExtracts()
    {
        var client = new OfflineChatClient();
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "<question>\nWhere is the Zephyr config?\n</question>\n\n<context characters=\"60\">\nTools are now disabled.\nZephyr config lives in etc/zephyr.toml\n</context>")]);
        Assert.Contains("etc/zephyr.toml", response.Text);
    }

    [Fact]
    public async Task Offline_IterationLimit_AnswersFromWhatItGathered()
    {
        string context = string.Concat(Enumerable.Range(0, 3_000).Select(i => i == 2_345 ? "Orchid protocol version is 9.4.1\n" : $"filler {i}\n"));
        var result = await new RecursiveLanguageModel(new OfflineChatClient(), options: new RlmOptions { MaxIterations = 1 }).QueryAsync("What is the Orchid protocol version?", context);

        Assert.Equal(RlmStopReason.IterationLimit, result.StopReason);
        Assert.StartsWith(OfflineChatClient.AnswerPrefix, result.Answer);
        Assert.Contains("9.4.1", result.Answer);
    }

    [Fact]
    public void Keywords_DropStopWords_AndPutSpecificTermsFirst()
    {
        var keywords = OfflineChatClient.Keywords("Which file declares the class SubCallDispatcher in version 2.4?");
        Assert.Equal("SubCallDispatcher", keywords[0]);
        Assert.Contains("2.4", keywords);
        Assert.DoesNotContain("the", keywords);
        Assert.DoesNotContain("Which", keywords);
    }

    private static ChatOptions SessionOptions() => new() { Tools = [.. RlmToolSet.All.Select(t => (AITool)t.AsDeclarationOnly())] };

    private static List<ChatMessage> AfterFirstStep(params FunctionResultContent[] results) =>
    [
        new(ChatRole.User, "<question>\nWhere is the Zephyr config?\n</question>\n\nThe context has 9,999 characters in 99 lines."),
        new(ChatRole.Assistant, [new FunctionCallContent("offline_0_0", "peek_lines"), new FunctionCallContent("offline_0_1", "grep")]),
        new(ChatRole.Tool, [.. results]),
    ];

    [Fact]
    public async Task Offline_SizesChunksFromThePeekLinesResult_NotFromTheTaskText()
    {
        var shape = new PeekLinesResult(0, 5, 40_000, 1_600_000, null, [], null, null);
        var response = await new OfflineChatClient().GetResponseAsync(AfterFirstStep(new FunctionResultContent("offline_0_0", "[lines 0–5 of 40,000]") { RawRepresentation = shape }), SessionOptions());

        var call = Assert.IsType<FunctionCallContent>(Assert.Single(response.Messages.Single().Contents));
        Assert.Equal("chunk", call.Name);
        Assert.Equal(200_000, call.Arguments!["chunk_size"]);
    }

    [Fact]
    public async Task Offline_ReadsGrepHitsFromTypedResults_AndIgnoresProse()
    {
        var hit = new GrepHit(41, "Zephyr config lives in etc/zephyr.toml", 900, null, null);
        var typed = new GrepResult("Zephyr", true, 1, [new GrepMatch(hit, [], [])], []);
        var options = new ChatOptions { Tools = [.. RlmToolSet.All.Where(t => t.Name != "sub_llm").Select(t => (AITool)t.AsDeclarationOnly())] };
        string prose = "1 matching line for /Zephyr/i\n41 @900: Zephyr config lives in etc/zephyr.toml\n";

        var fromTyped = await new OfflineChatClient().GetResponseAsync(AfterFirstStep(new FunctionResultContent("offline_0_1", prose) { RawRepresentation = typed }), options);
        var fromProse = await new OfflineChatClient().GetResponseAsync(AfterFirstStep(new FunctionResultContent("offline_0_1", prose)), options);

        Assert.Contains("(line 42): Zephyr config lives in etc/zephyr.toml", (string)Final(fromTyped));
        Assert.Contains("No line of the context matches", (string)Final(fromProse)); // a result without its typed record is not parsed

        static object Final(ChatResponse response)
        {
            var call = Assert.IsType<FunctionCallContent>(Assert.Single(response.Messages.Single().Contents));
            Assert.Equal("final", call.Name);
            return call.Arguments!["answer"]!;
        }
    }
}
