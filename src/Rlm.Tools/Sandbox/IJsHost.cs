using Rlm.Tools.Context;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// What the JavaScript sandbox may reach of its session. Everything here runs in C#; the sandbox exposes it to
/// scripts and nothing else (no CLR, file system or network).
/// </summary>
internal interface IJsHost
{
    /// <summary>Gets the session's view of the context (JS global <c>context</c>, a string).</summary>
    ContextView View { get; }

    /// <summary>Gets the session's variables (JS <c>set_variable</c>, <c>get_variable</c>).</summary>
    VariableStore Variables { get; }

    /// <summary>
    /// Runs a grep over the view for JS <c>grep(pattern, max)</c>: case-insensitive .NET regex, at most
    /// <paramref name="maxResults"/> matching lines, the whole search bounded by <see cref="RlmOptions.RegexTimeout"/>.
    /// Throws <see cref="ArgumentException"/> for an invalid pattern, <see cref="GrepTimeoutException"/> for a
    /// too-slow search and <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is canceled.
    /// </summary>
    IReadOnlyList<GrepHit> Grep(string pattern, int maxResults, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the worker model one question as a sub-call at the next depth (JS <c>llm_query(prompt)</c>), through the run's
    /// dispatcher and budgets. A failure (budget spent, depth limit, model error) comes back as text starting with <c>Error:</c>.
    /// <paramref name="model"/> names a worker of <see cref="RlmOptions.Workers"/> (JS <c>llm_query(prompt, { model })</c>),
    /// <see langword="null"/> the default one; an unknown name throws <see cref="ArgumentException"/> (a script error).
    /// </summary>
    Task<string> LlmQueryAsync(string prompt, string? model, CancellationToken cancellationToken);

    /// <summary>Asks several questions in parallel (JS <c>llm_query_batched(prompts, { model })</c>); answers in prompt order, errors as text.</summary>
    Task<IReadOnlyList<string>> LlmQueryBatchedAsync(IReadOnlyList<string> prompts, string? model, CancellationToken cancellationToken);
}
