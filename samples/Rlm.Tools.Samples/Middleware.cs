using Microsoft.Extensions.AI;
using Rlm.Tools;

/// <summary>Way 2: a chat pipeline whose large requests are answered by an RLM run (offline).</summary>
internal static class Middleware
{
    public static async Task RunAsync(RlmCorpus corpus, string question)
    {
        using IChatClient chat = new ChatClientBuilder(new OfflineChatClient()) // your model's client here
            .UseRecursiveLanguageModel(o => o.ThresholdTokens = 10_000)
            .Build();

        // The source files pasted into one message: far over the threshold, so the RLM answers it through its tools.
        string pasted = string.Join("\n", corpus.Documents.Select(d => $"// file: {d.Name}\n{d.Text}"));
        var attachment = new DataContent(System.Text.Encoding.UTF8.GetBytes(pasted), "text/plain") { Name = "sources.txt" };
        ChatResponse response = await chat.GetResponseAsync(new ChatMessage(ChatRole.User, [new TextContent(question), attachment]));
        var run = (RlmResult)response.RawRepresentation!;
        Console.WriteLine($"2. UseRecursiveLanguageModel ({run.StopReason}, {response.Usage?.InputTokenCount:N0} input tokens over the whole run):");
        Console.WriteLine("   " + response.Text.ReplaceLineEndings("\n   "));

        ChatResponse small = await chat.GetResponseAsync("hello");
        Console.WriteLine($"   A small request passes through: {(small.RawRepresentation is RlmResult ? "no" : "yes")}");
    }
}
