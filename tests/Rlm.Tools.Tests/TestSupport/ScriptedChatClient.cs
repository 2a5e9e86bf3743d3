using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tests.TestSupport;

/// <summary>
/// A scripted root model: replays a plan, one step per request. A step sees the request's messages (so it can check the
/// tool results of the previous step) and returns the reply. Requests after the plan ends get <c>final("done")</c>.
/// </summary>
public sealed class ScriptedChatClient(params Func<IReadOnlyList<ChatMessage>, ChatResponse>[] plan) : IChatClient
{
    private readonly List<IReadOnlyList<ChatMessage>> _requests = [];
    private readonly List<ChatOptions?> _options = [];

    public IReadOnlyList<IReadOnlyList<ChatMessage>> Requests => _requests;

    public IReadOnlyList<ChatOptions?> Options => _options;

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        ChatResponse response;
        lock (_requests)
        {
            _requests.Add(list);
            _options.Add(options);
            int step = _requests.Count - 1;
            response = step < plan.Length ? plan[step](list) : TestChatClient.Calls(("final", new { answer = "done" }));
        }

        return Task.FromResult(response);
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
