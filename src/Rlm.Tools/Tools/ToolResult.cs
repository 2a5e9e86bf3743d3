using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tools;

/// <summary>What one tool call gives back: the text the model reads, whether it is an error, and for <c>final</c>/<c>final_var</c> the answer that ends the session.</summary>
internal sealed record ToolResult(string Text, bool IsError = false, string? FinalAnswer = null, RlmStopReason? StopReason = null)
{
    public static ToolResult Error(string message) => new("Error: " + message, IsError: true);

    /// <summary>The result as the model's conversation holds it.</summary>
    public FunctionResultContent ToContent(string callId) => new(callId, Text);
}
