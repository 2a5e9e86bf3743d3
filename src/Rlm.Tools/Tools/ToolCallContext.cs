using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Tools;

/// <summary>
/// What one tool call works with: the session's view and variables, the query's sub-call runner, the session's
/// sandbox, where the call sits in the trajectory, and its depth. Built per call by the tool invoker; tools return
/// results and never reach back into the session that runs them.
/// </summary>
internal sealed class ToolCallContext
{
    /// <summary>Gets the view of the context this session explores.</summary>
    public required ContextView View { get; init; }

    /// <summary>Gets the session's variables (shared with JavaScript).</summary>
    public required VariableStore Variables { get; init; }

    /// <summary>Gets the run's options.</summary>
    public required RlmOptions Options { get; init; }

    /// <summary>Gets the query's sub-call runner (<c>sub_llm</c>, JavaScript's <c>llm_query</c>).</summary>
    public required ISubCallRunner SubCalls { get; init; }

    /// <summary>Gets the session's JavaScript sandbox (<c>exec_js</c>); its engine is created on first use.</summary>
    public required JsSandbox Sandbox { get; init; }

    /// <summary>Gets the trace node of this call: sub-calls it starts hang below it.</summary>
    public required RlmTraceNode TraceNode { get; init; }

    /// <summary>Gets the depth of the session that runs the call (0 = root).</summary>
    public required int Depth { get; init; }

    /// <summary>Gets the run's statistics (JavaScript's <c>llm_query</c> counts as a call of its own).</summary>
    public required RunStatistics Statistics { get; init; }
}
