using Microsoft.Extensions.AI;

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
}
