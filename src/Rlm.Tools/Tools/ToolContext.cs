using Rlm.Tools.Context;

namespace Rlm.Tools.Tools;

/// <summary>What the tools of one session work on. Built by the session; the tools are pure over it.</summary>
internal sealed class ToolContext
{
    public required ContextView View { get; init; }

    public required VariableStore Variables { get; init; }

    public required RlmOptions Options { get; init; }

    /// <summary>Runs a sub-call (query, slice of <see cref="View"/>) one level deeper; errors come back as an error result, not an exception.</summary>
    public required Func<string, ContextView, CancellationToken, Task<ToolResult>> SubCall { get; init; }

    /// <summary>Runs JavaScript in the session's sandbox.</summary>
    public required Func<string, CancellationToken, Task<ToolResult>> ExecuteJavaScript { get; init; }
}
