using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// What the root sessions of one <see cref="RlmConversation"/> share across questions: variables, the JavaScript engine
/// (its globals) and the earlier questions and answers.
/// </summary>
internal sealed class ConversationState : IDisposable
{
    public VariableStore Variables { get; } = new();

    /// <summary>The sandbox's host: it forwards to the session of the question being answered.</summary>
    public ForwardingJsHost Host { get; } = new();

    public JsSandbox? Sandbox { get; set; }

    public List<RlmConversationTurn> Turns { get; } = [];

    public void Dispose() => Sandbox?.Dispose();
}

/// <summary>An <see cref="IJsHost"/> that forwards to the current question's session.</summary>
internal sealed class ForwardingJsHost : IJsHost
{
    public IJsHost? Current { get; set; }

    private IJsHost Host => Current ?? throw new InvalidOperationException("No question is being answered.");

    public ContextView View => Host.View;

    public VariableStore Variables => Host.Variables;

    public IReadOnlyList<GrepHit> Grep(string pattern, int maxResults, CancellationToken cancellationToken) => Host.Grep(pattern, maxResults, cancellationToken);

    public Task<string> LlmQueryAsync(string prompt, CancellationToken cancellationToken) => Host.LlmQueryAsync(prompt, cancellationToken);

    public Task<IReadOnlyList<string>> LlmQueryBatchedAsync(IReadOnlyList<string> prompts, CancellationToken cancellationToken) => Host.LlmQueryBatchedAsync(prompts, cancellationToken);
}
