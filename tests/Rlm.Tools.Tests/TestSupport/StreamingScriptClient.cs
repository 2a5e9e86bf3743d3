using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tests.TestSupport;

/// <summary>
/// A streaming root model: request <c>i</c> (0-based) streams the updates of <c>plan[i]</c>, which may wait on signals
/// between updates or throw. Requests after the plan get <c>final("done")</c>. Every request is recorded;
/// <see cref="GetResponseAsync"/> is not expected and counted.
/// </summary>
public sealed class StreamingScriptClient(params Func<IReadOnlyList<ChatMessage>, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>>[] plan) : IChatClient
{
    private readonly List<IReadOnlyList<ChatMessage>> _requests = [];
    private int _plainCalls;

    public IReadOnlyList<IReadOnlyList<ChatMessage>> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public int PlainCalls => Volatile.Read(ref _plainCalls);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _plainCalls);
        return GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        int index;
        lock (_requests)
        {
            index = _requests.Count;
            _requests.Add(list);
        }

        return index < plan.Length ? plan[index](list, cancellationToken) : Updates(Call("final", new { answer = "done" }));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    /// <summary>One update holding one function call.</summary>
    public static ChatResponseUpdate Call(string name, object args, string? callId = null) =>
        new(ChatRole.Assistant, [new FunctionCallContent(callId ?? $"call_{Guid.NewGuid():N}", name, TestChatClient.ToDictionary(args))]) { MessageId = "m1" };

    /// <summary>One update holding text.</summary>
    public static ChatResponseUpdate Text(string text) => new(ChatRole.Assistant, text) { MessageId = "m1" };

    /// <summary>One update holding usage.</summary>
    public static ChatResponseUpdate Usage(long input, long output) =>
        new(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output })]) { MessageId = "m1" };

    public static async IAsyncEnumerable<ChatResponseUpdate> Updates(params ChatResponseUpdate[] updates)
    {
        foreach (var update in updates)
        {
            await Task.Yield();
            yield return update;
        }
    }

    /// <summary>Streams <paramref name="steps"/>: an update is yielded, a task is awaited, a <see cref="Func{Task}"/> is run and awaited, an exception is thrown.</summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> Steps(IEnumerable<object> steps, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var step in steps)
        {
            switch (step)
            {
                case ChatResponseUpdate update:
                    yield return update;
                    break;
                case Task task:
                    await task.WaitAsync(cancellationToken);
                    break;
                case Func<Task> action: // started when the stream reaches it
                    await action().WaitAsync(cancellationToken);
                    break;
                case Exception e:
                    throw e;
            }
        }
    }
}
