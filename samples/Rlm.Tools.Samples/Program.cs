// The three ways to use Rlm.Tools, offline (the built-in OfflineChatClient stands in for a real model; swap in any
// IChatClient, e.g. OpenAIChatClientFactory.Create("gpt-4.1", apiKey)). Run from the repository root:
//   dotnet run --project samples/Rlm.Tools.Samples -- src
using Microsoft.Extensions.AI;
using Rlm.Tools;

string directory = args.Length > 0 ? args[0] : "src";
const string Question = "Which file declares the class ModelDispatcher?";
var corpus = RlmCorpus.FromDirectory(directory, "**/*.cs"); // prepared once, reused by every query below

// 1. A library call.
var rlm = new RecursiveLanguageModel(new OfflineChatClient());
RlmResult result = await rlm.QueryAsync(Question, corpus);
Console.WriteLine($"1. QueryAsync ({result.StopReason}, {result.Statistics.ModelCalls} model calls):");
Console.WriteLine(Indent(result.Answer));

// 2. A step in an M.E.AI chat pipeline: large requests are answered by an RLM run, small ones pass through.
await Middleware.RunAsync(corpus, Question);

// 3. A tool inside another agent: the host binds the corpus; the agent passes only the question.
AIFunction tool = rlm.AsAIFunction(corpus, "search_source");
using IChatClient agent = new ChatClientBuilder(new OneToolAgent(tool.Name, Question)).UseFunctionInvocation().Build();
ChatResponse reply = await agent.GetResponseAsync("Find the dispatcher.", new ChatOptions { Tools = [tool] });
Console.WriteLine("3. AsAIFunction inside a FunctionInvokingChatClient:");
Console.WriteLine(Indent(reply.Text));
return 0;

static string Indent(string text) => "   " + text.ReplaceLineEndings("\n   ");

/// <summary>
/// A stand-in for the outer agent's model: it calls the one tool it is given with a fixed question, then replies with
/// what the tool returned. A real agent would be any IChatClient.
/// </summary>
internal sealed class OneToolAgent(string toolName, string question) : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
        return Task.FromResult(result is null
            ? new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-1", toolName, new Dictionary<string, object?> { ["question"] = question })]))
            : new ChatResponse(new ChatMessage(ChatRole.Assistant, $"The tool answered: {result.Result}")));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
