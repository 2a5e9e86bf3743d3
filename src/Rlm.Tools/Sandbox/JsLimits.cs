namespace Rlm.Tools.Sandbox;

/// <summary>The limits one <c>exec_js</c> call runs under (copied from <see cref="RlmOptions"/>).</summary>
/// <param name="Timeout">Wall time for one call's script execution.</param>
/// <param name="MaxStatements">Statements one call may execute.</param>
/// <param name="MaxRecursionDepth">Depth of the JavaScript call stack.</param>
/// <param name="MemoryLimitBytes">Bytes of heap the session may keep (globals kept across calls count; see <see cref="SandboxConstraint"/>).</param>
/// <param name="MaxOutputChars">Characters of captured <c>print</c>/<c>console.log</c> output kept per call.</param>
internal sealed record JsLimits(TimeSpan Timeout, int MaxStatements, int MaxRecursionDepth, long MemoryLimitBytes, int MaxOutputChars);
