// Uses Rlm.Tools as a NuGet user does, offline: the built-in offline model answers a question over a small context.
// Exits 0 when the answer holds the fact, 1 otherwise (.ci/run counts it as one test).
using Microsoft.Extensions.AI;
using Rlm.Tools;
using Rlm.Tools.OpenAI;

const string Context = """
    The orchard has pear trees.
    The launch code for the blue rocket is TANGO-4471.
    The red rocket is still in the hangar.
    """;

var rlm = new RecursiveLanguageModel(new OfflineChatClient(), options: new RlmOptions { MaxIterations = 10 });
RlmResult result = await rlm.QueryAsync("What is the launch code for the blue rocket?", Context);
Console.WriteLine(result.Answer);
Console.WriteLine($"stop reason: {result.StopReason}, sub-calls: {result.Statistics.SubCalls}, "
    + $"tokens: {result.Usage.TotalTokenCount}");

// Rlm.Tools.OpenAI restores and loads too: a client is built here, no request is sent.
using IChatClient endpoint = OpenAIChatClientFactory.Create("gpt-4.1-mini", "not-a-key", new Uri("http://127.0.0.1:9/v1"));
Console.WriteLine($"OpenAI-compatible client: {endpoint.GetService<ChatClientMetadata>()?.DefaultModelId}");

if (!result.Answer.Contains("TANGO-4471", StringComparison.Ordinal))
{
    Console.Error.WriteLine("consumer: the answer does not hold TANGO-4471");
    return 1;
}

Console.WriteLine("consumer: ok");
return 0;
