using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tests.TestSupport;

/// <summary>A hand-written fake: each request goes to <see cref="GetResponseAsyncCallback"/>; every request is recorded.</summary>
public sealed class TestChatClient : IChatClient
{
    private readonly List<(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)> _requests = [];

    public Func<IReadOnlyList<ChatMessage>, ChatOptions?, CancellationToken, Task<ChatResponse>>? GetResponseAsyncCallback { get; set; }

    public IReadOnlyList<(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        lock (_requests)
        {
            _requests.Add((list, options));
        }

        return GetResponseAsyncCallback!(list, options, cancellationToken);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    public static ChatResponse Calls(params (string Name, object Args)[] calls) =>
        Calls(null, calls);

    public static ChatResponse Calls(UsageDetails? usage, params (string Name, object Args)[] calls)
    {
        var contents = calls.Select((c, i) => (AIContent)new FunctionCallContent($"call_{Guid.NewGuid():N}_{i}", c.Name, ToDictionary(c.Args))).ToList();
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents)) { Usage = usage };
    }

    public static ChatResponse Text(string text, UsageDetails? usage = null) =>
        new(new ChatMessage(ChatRole.Assistant, text)) { Usage = usage };

    public static IDictionary<string, object?> ToDictionary(object args) =>
        args as IDictionary<string, object?> ?? args.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(args));

    /// <summary>The tool results of the last tool message in a request, in order.</summary>
    public static IReadOnlyList<string> LastToolResults(IReadOnlyList<ChatMessage> messages) =>
        messages.LastOrDefault(m => m.Role == ChatRole.Tool)?.Contents.OfType<FunctionResultContent>().Select(r => r.Result?.ToString() ?? "").ToList() ?? [];

    /// <summary>The question a sub-call session or leaf was given.</summary>
    public static bool IsLeaf(ChatOptions? options) => options?.Tools is null || options.Tools.Count == 0;
}
