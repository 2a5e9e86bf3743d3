using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tools;

/// <summary>What one tool call gives back: the text the model reads, whether it is an error, and for <c>final</c>/<c>final_var</c> the answer that ends the session.</summary>
internal sealed record ToolResult(string Text, bool IsError = false, string? FinalAnswer = null, RlmStopReason? StopReason = null)
{
    /// <summary>Gets the typed result the text was rendered from; <see langword="null"/> for a custom tool's result.</summary>
    public ToolOutput? Output { get; init; }

    /// <summary>A built-in tool's result: <paramref name="output"/> rendered by <see cref="ToolResultFormatter"/>, at most <paramref name="maxChars"/> characters.</summary>
    public static ToolResult From(ToolOutput output, int maxChars)
    {
        var final = output as FinalAnswerResult;
        return new(ToolResultFormatter.Format(output, maxChars), output.IsError, final?.Answer, final?.StopReason) { Output = output };
    }

    /// <summary>An error result, <c>Error: {message}</c>, not capped.</summary>
    public static ToolResult Error(string message) => From(new ToolError(message), int.MaxValue);

    /// <summary>The result as the model's conversation holds it: the text, with the typed result as its raw representation (never sent by providers).</summary>
    public FunctionResultContent ToContent(string callId) => new(callId, Text) { RawRepresentation = Output };
}
