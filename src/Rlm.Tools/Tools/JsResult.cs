namespace Rlm.Tools.Tools;

/// <summary>The result of <c>exec_js</c>.</summary>
/// <param name="Output">What the script printed (already capped by the sandbox).</param>
/// <param name="Value">The completion value as text, or <see langword="null"/> when there is none.</param>
/// <param name="Error">The script's error with line and column, or <see langword="null"/>.</param>
internal sealed record JsResult(string Output, string? Value, string? Error) : ToolOutput
{
    /// <inheritdoc />
    public override bool IsError => Error is not null;
}
