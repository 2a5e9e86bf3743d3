namespace Rlm.Tools.Tools;

/// <summary>The result of <c>get_variable</c>: the stored value, shown as it is.</summary>
/// <param name="Name">The variable's name.</param>
/// <param name="Value">The stored value.</param>
internal sealed record VariableValue(string Name, string Value) : ToolOutput;
