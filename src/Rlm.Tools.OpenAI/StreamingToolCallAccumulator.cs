using System.Text;
using Microsoft.Extensions.AI;
using OpenAI.Chat;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// Assembles streamed tool-call fragments into complete <see cref="FunctionCallContent"/> items.
/// </summary>
/// <remarks>
/// The Chat Completions stream sends, per tool call, a first fragment carrying the <c>index</c>, <c>id</c> and function
/// <c>name</c>, then fragments carrying only the <c>index</c> and an <c>arguments</c> delta. Fragments of parallel calls may
/// interleave. Some OpenAI-compatible servers reuse an index for a new call (with a new id); that starts a new call.
/// </remarks>
internal sealed class StreamingToolCallAccumulator
{
    private readonly List<PendingCall> _calls = [];
    private readonly Dictionary<int, PendingCall> _byIndex = [];

    /// <summary>Gets a value indicating whether at least one tool call fragment was seen.</summary>
    public bool HasCalls => _calls.Count > 0;

    /// <summary>Adds the tool-call fragments of one streaming update.</summary>
    public void Add(IReadOnlyList<StreamingChatToolCallUpdate>? updates)
    {
        if (updates is null)
        {
            return;
        }

        foreach (StreamingChatToolCallUpdate update in updates)
        {
            string? id = string.IsNullOrEmpty(update.ToolCallId) ? null : update.ToolCallId;
            if (!_byIndex.TryGetValue(update.Index, out PendingCall? call)
                || (id is not null && call.Id is not null && !string.Equals(id, call.Id, StringComparison.Ordinal)))
            {
                call = new PendingCall();
                _byIndex[update.Index] = call;
                _calls.Add(call);
            }

            call.Id ??= id;
            if (!string.IsNullOrEmpty(update.FunctionName))
            {
                call.Name ??= update.FunctionName;
            }

            if (update.FunctionArgumentsUpdate is { } delta && !delta.IsEmpty)
            {
                call.Arguments.Append(delta.ToString());
            }
        }
    }

    /// <summary>Builds the completed calls, in the order they started; calls that never got a name are dropped.</summary>
    public List<AIContent> Build()
    {
        var result = new List<AIContent>(_calls.Count);
        foreach (PendingCall call in _calls)
        {
            if (call.Name is null)
            {
                continue;
            }

            result.Add(OpenAIChatClient.FromOpenAIFunctionCall(call.Id, call.Name, call.Arguments.ToString()));
        }

        return result;
    }

    private sealed class PendingCall
    {
        public string? Id { get; set; }

        public string? Name { get; set; }

        public StringBuilder Arguments { get; } = new();
    }
}
