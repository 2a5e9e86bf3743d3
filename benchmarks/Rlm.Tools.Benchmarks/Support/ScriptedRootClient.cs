using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Benchmarks.Support;

/// <summary>One function call of a scripted step: a tool name and its arguments (CLR values, as an in-process client sends them).</summary>
public sealed record ScriptedCall(string Name, IReadOnlyDictionary<string, object?> Arguments)
{
    public static ScriptedCall Of(string name, params (string Key, object? Value)[] arguments) =>
        new(name, arguments.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal));
}

/// <summary>
/// A scripted root model with negligible model time: step <c>n</c> (the number of assistant replies already in the
/// conversation) returns the calls of <c>plan[n]</c>, all in one reply (so several calls run in parallel); past the plan
/// it calls <c>final("done")</c>. It keeps no per-run state, so one instance serves every iteration of a benchmark.
/// </summary>
public sealed class ScriptedRootClient(params IReadOnlyList<ScriptedCall>[] plan) : IChatClient
{
    private static readonly ScriptedCall[] s_final = [ScriptedCall.Of("final", ("answer", "done"))];

    /// <summary>Gets or sets whether the tool results each request carries are kept in <see cref="ToolResults"/> (for validation; off while measuring).</summary>
    public bool Record { get; set; }

    /// <summary>Gets the results of the latest tool message of each recorded request, in order.</summary>
    public List<string> ToolResults { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        int step = 0;
        ChatMessage? lastTool = null;
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.Assistant)
            {
                step++;
            }
            else if (message.Role == ChatRole.Tool)
            {
                lastTool = message;
            }
        }

        if (Record && lastTool is not null)
        {
            lock (ToolResults)
            {
                ToolResults.AddRange(lastTool.Contents.OfType<FunctionResultContent>().Select(r => r.Result?.ToString() ?? string.Empty));
            }
        }

        var calls = step < plan.Length ? plan[step] : s_final;
        var contents = new List<AIContent>(calls.Count);
        for (int i = 0; i < calls.Count; i++)
        {
            contents.Add(new FunctionCallContent($"call_{step}_{i}", calls[i].Name, new Dictionary<string, object?>(calls[i].Arguments)));
        }

        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, contents)) { FinishReason = ChatFinishReason.ToolCalls });
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>A worker model that answers every request at once with the same short text: what is left is the engine's own cost.</summary>
public sealed class InstantWorkerClient : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { FinishReason = ChatFinishReason.Stop });

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
