using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// What the root sessions of one <see cref="RlmConversation"/> share across questions: variables, the JavaScript engine
/// (its globals) and the earlier questions and answers.
/// </summary>
internal sealed class ConversationState : IDisposable
{
    private readonly Lock _lock = new();
    private JsSandbox? _sandbox;

    public VariableStore Variables { get; } = new();

    public List<RlmConversationTurn> Turns { get; } = [];

    /// <summary>The conversation's sandbox, created with the first question's limits; each call gets its own host.</summary>
    public JsSandbox Sandbox(JsLimits limits)
    {
        lock (_lock)
        {
            return _sandbox ??= new JsSandbox(limits);
        }
    }

    public void Dispose() => _sandbox?.Dispose();
}
