using System.Runtime.CompilerServices;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// What a run had when it ended in an exception other than <see cref="RlmModelException"/> (which carries its own
/// <see cref="RlmModelException.PartialResult"/>): a cancellation or an unexpected error. The public contract stays an
/// <see cref="OperationCanceledException"/> or the original exception; the <c>rlm</c> command reads the partial result
/// here, keyed by the exception object, to report a failed run under <c>--json</c> and write its trajectory.
/// </summary>
internal static class PartialResults
{
    private static readonly ConditionalWeakTable<Exception, RlmResult> s_results = [];

    public static void Attach(Exception exception, RlmResult result) => s_results.AddOrUpdate(exception, result);

    /// <summary>The partial result of the run that threw <paramref name="exception"/> (or, for an <see cref="RlmModelException"/>, its own).</summary>
    public static RlmResult? Of(Exception exception) =>
        exception is RlmModelException { PartialResult: { } partial } ? partial
        : s_results.TryGetValue(exception, out var result) ? result
        : null;
}
