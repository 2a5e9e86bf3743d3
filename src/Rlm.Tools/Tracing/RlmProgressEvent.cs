namespace Rlm.Tools;

/// <summary>A live progress event of a run, delivered to <see cref="RlmOptions.Progress"/>.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Depth">The depth of the session it happened in (root = 0).</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Message">A one-line description, for example <c>iter 2: calling gpt-4.1 (root)</c>.</param>
public sealed record RlmProgressEvent(RlmProgressKind Kind, int Depth, TimeSpan Elapsed, string Message);

/// <summary>The kinds of <see cref="RlmProgressEvent"/>.</summary>
public enum RlmProgressKind
{
    /// <summary>A session sends its next model request.</summary>
    Iteration,

    /// <summary>A tool call starts.</summary>
    ToolCall,

    /// <summary>A group of calls of one reply starts in parallel.</summary>
    ParallelGroup,

    /// <summary>A sub-call starts (a session or a leaf one level deeper).</summary>
    SubCallStarted,

    /// <summary>A sub-call ends.</summary>
    SubCallCompleted,

    /// <summary>A session ends with an answer.</summary>
    SessionCompleted,

    /// <summary>A model request failed transiently and waits to be retried.</summary>
    ModelRetry,

    /// <summary>A budget of <see cref="RlmOptions"/> is nearly (90%) or wholly spent.</summary>
    BudgetWarning,
}
