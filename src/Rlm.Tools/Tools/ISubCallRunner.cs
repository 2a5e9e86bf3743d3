using Rlm.Tools.Context;

namespace Rlm.Tools.Tools;

/// <summary>
/// Runs sub-calls one level below a session: a recursive session over a slice, a leaf completion at the maximum depth,
/// or a leaf completion over a prompt alone (JavaScript's <c>llm_query</c>). Owned by the query, shared by all of its
/// sessions; failures come back as results, never as exceptions (caller cancellation excepted).
/// </summary>
internal interface ISubCallRunner
{
    /// <summary>Runs one sub-call.</summary>
    /// <param name="request">The question, the slice and where the call comes from.</param>
    /// <param name="cancellationToken">Cancels the sub-call and everything below it.</param>
    /// <returns>The worker's answer, or why the sub-call failed.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    Task<SubCallResult> RunAsync(SubCallRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Checks a batch of sub-calls asked for at once against what is left of the run's token and cost budgets, before any is
    /// sent; a refused batch is reported once (event, statistics, trace node below <paramref name="parent"/>).
    /// </summary>
    /// <returns>The error every sub-call of the batch gets, or <see langword="null"/> when the batch may run.</returns>
    string? RefuseBatch(IReadOnlyList<SubCallRequest> requests, RlmTraceNode parent) => null;
}

/// <summary>One sub-call to run.</summary>
/// <param name="Query">The question for the worker model.</param>
/// <param name="Slice">The slice of the caller's view the worker sees; <see langword="null"/> for a prompt alone.</param>
/// <param name="CallerDepth">The depth of the calling session (the sub-call runs at <c>CallerDepth + 1</c>).</param>
/// <param name="Parent">The trace node the sub-call hangs below (the tool call that asked for it).</param>
/// <param name="Worker">The named worker (<see cref="RlmOptions.Workers"/>) that answers; <see langword="null"/> for the default worker.</param>
internal sealed record SubCallRequest(string Query, ContextView? Slice, int CallerDepth, RlmTraceNode Parent, RlmWorker? Worker = null);

/// <summary>What a sub-call gave back: the worker's answer, or the error the caller's model reads.</summary>
/// <param name="Answer">The answer; <see langword="null"/> when the sub-call failed.</param>
/// <param name="Error">Why the sub-call failed (one sentence with advice for the model); <see langword="null"/> on success.</param>
internal sealed record SubCallResult(string? Answer, string? Error)
{
    /// <summary>Gets whether the sub-call failed.</summary>
    public bool Failed => Answer is null;

    /// <summary>Gets the text a model reads: the answer, or <c>Error: …</c>.</summary>
    public string Text => Answer ?? "Error: " + Error;

    public static SubCallResult Success(string answer) => new(answer, null);

    public static SubCallResult Failure(string error) => new(null, error);
}
