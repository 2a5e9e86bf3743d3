namespace Rlm.Tools.Tools;

/// <summary>The result of <c>set_variable</c>.</summary>
/// <param name="Name">The variable's name.</param>
/// <param name="Length">The stored value's length in characters.</param>
internal sealed record VariableStored(string Name, int Length) : ToolOutput;
