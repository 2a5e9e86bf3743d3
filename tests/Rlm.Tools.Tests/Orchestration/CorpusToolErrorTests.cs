using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// What a calling model reads when it calls the corpus tool badly, through a real <see cref="FunctionInvokingChatClient"/>
/// (which shows only "Error: Function failed." for an exception unless IncludeDetailedErrors is on).
/// </summary>
public sealed class CorpusToolErrorTests
{
    private static readonly RlmCorpus s_corpus = RlmCorpus.FromDocuments(
        [.. Enumerable.Range(0, 30).Select(i => new RlmDocument($"notes/day{i:D2}.txt", $"entry {i}\n")), new RlmDocument("launch/codes.txt", "The launch code is TANGO-4471.\n")]);

    /// <summary>Runs one agent turn: the scripted calling model calls the tool with <paramref name="arguments"/>; returns the result it receives.</summary>
    private static async Task<string> WhatTheCallingModelReads(Dictionary<string, object?> arguments, RlmCorpusToolOptions? options = null, IChatClient? rlmModel = null)
    {
        var rlm = new RecursiveLanguageModel(rlmModel ?? new OfflineChatClient());
        var tool = rlm.AsAIFunction(s_corpus, options ?? new RlmCorpusToolOptions());
        string? received = null;
        var agent = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, _, _) =>
            {
                var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
                if (result is null)
                {
                    return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-1", tool.Name, arguments)])));
                }

                received = result.Result?.ToString();
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
            },
        };

        using var client = agent.AsBuilder().UseFunctionInvocation().Build();
        await client.GetResponseAsync("ask the corpus", new ChatOptions { Tools = [tool] });
        return received ?? throw new InvalidOperationException("the calling model got no function result");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task EmptyQuestion_TheCallingModelReadsThatTheQuestionArgumentIsEmpty(string question)
    {
        string text = await WhatTheCallingModelReads(new() { ["question"] = question });

        Assert.StartsWith("Error: The question argument is empty", text);
        Assert.Contains("'question'", text);
        Assert.DoesNotContain("query", text);
        Assert.DoesNotContain("Function failed", text);
    }

    [Fact]
    public async Task MissingQuestion_TheCallingModelReadsWhichArgumentIsMissing()
    {
        string text = await WhatTheCallingModelReads(new() { ["documents"] = "notes" });

        Assert.StartsWith("Error: ", text);
        Assert.Contains("'question'", text);
        Assert.DoesNotContain("Function failed", text);
    }

    [Fact]
    public async Task UnmatchedDocumentsFilter_TheCallingModelReadsTheFilterAndABoundedListOfNames()
    {
        string text = await WhatTheCallingModelReads(new() { ["question"] = "What is the launch code?", ["documents"] = "rocket" });

        Assert.StartsWith("Error: The documents argument 'rocket' is in no document name", text);
        Assert.Contains("The 31 documents are: notes/day00.txt, notes/day01.txt", text);
        Assert.Contains("notes/day19.txt, … and 11 more", text);
        Assert.DoesNotContain("notes/day20.txt", text); // bounded: 20 names
        Assert.DoesNotContain("Function failed", text);
    }

    [Fact]
    public async Task MatchedDocumentsFilter_TheCallingModelReadsTheAnswer()
    {
        string text = await WhatTheCallingModelReads(new() { ["question"] = "What is the launch code?", ["documents"] = "LAUNCH" });

        Assert.Contains("TANGO-4471", text);
        Assert.DoesNotContain("Error:", text);
    }

    [Fact]
    public async Task OverlongQuestion_TheCallingModelReadsTheLimit()
    {
        string text = await WhatTheCallingModelReads(new() { ["question"] = "a question of more than twenty characters" }, new RlmCorpusToolOptions { MaxQuestionChars = 20 });

        Assert.StartsWith("Error: The question argument has 41 characters, more than the 20 this tool takes", text);
    }

    [Fact]
    public async Task DocumentsOfTheWrongType_TheCallingModelReadsAnError_NotFunctionFailed()
    {
        string text = await WhatTheCallingModelReads(new() { ["question"] = "q?", ["documents"] = new[] { 1, 2 } });

        Assert.StartsWith("Error: ", text);
        Assert.DoesNotContain("Function failed", text);
    }
}
