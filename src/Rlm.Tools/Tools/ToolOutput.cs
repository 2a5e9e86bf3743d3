namespace Rlm.Tools.Tools;

/// <summary>
/// The typed result of one built-in tool call. <see cref="ToolResultFormatter"/> renders it as the text the model reads;
/// the record itself travels with that text as <see cref="Microsoft.Extensions.AI.AIContent.RawRepresentation"/> of the
/// call's <see cref="Microsoft.Extensions.AI.FunctionResultContent"/>, for in-process readers such as the offline model.
/// </summary>
internal abstract record ToolOutput
{
    /// <summary>Gets whether the call failed (the model reads <c>Error: …</c>).</summary>
    public virtual bool IsError => false;
}
