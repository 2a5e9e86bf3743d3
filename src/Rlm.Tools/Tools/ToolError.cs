namespace Rlm.Tools.Tools;

/// <summary>A failed call: what went wrong and what to do instead, rendered as <c>Error: {Message}</c>.</summary>
/// <param name="Message">One or two sentences for the model, starting with the tool's name.</param>
internal sealed record ToolError(string Message) : ToolOutput
{
    /// <inheritdoc />
    public override bool IsError => true;
}
