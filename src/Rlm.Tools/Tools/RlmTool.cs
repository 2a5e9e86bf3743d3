using Rlm.Tools.Context;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tools;

/// <summary>
/// One of the ten RLM tools: an <see cref="AIFunction"/> whose JSON schema is declared to the model, run by the tool
/// invoker with a per-call <see cref="ToolCallContext"/>. It returns a <see cref="ToolResult"/>; argument errors become
/// error results, never exceptions.
/// </summary>
internal sealed class RlmTool : AIFunction
{
    private readonly Func<ToolCallContext, ToolArguments, CancellationToken, Task<ToolResult>> _handler;

    public RlmTool(string name, string description, JsonElement schema, Func<ToolCallContext, ToolArguments, CancellationToken, Task<ToolResult>> handler)
    {
        Name = name;
        Description = description;
        JsonSchema = schema;
        _handler = handler;
    }

    public override string Name { get; }

    public override string Description { get; }

    public override JsonElement JsonSchema { get; }

    /// <summary>Runs the tool; the result's text is already capped at <see cref="RlmOptions.MaxToolOutputChars"/>.</summary>
    public async Task<ToolResult> RunAsync(IDictionary<string, object?>? arguments, ToolCallContext context, CancellationToken cancellationToken)
    {
        ToolResult result;
        try
        {
            result = await _handler(context, new ToolArguments(arguments), cancellationToken).ConfigureAwait(false);
        }
        catch (ToolArgumentException e)
        {
            result = ToolResult.Error($"{Name}: {e.Message} Expected arguments: {Signature()}.");
        }

        int max = context.Options.MaxToolOutputChars;
        return result.Text.Length <= max ? result : result with { Text = TextLimits.Cap(result.Text, max) };
    }

    /// <summary>Not supported: the tool needs its call's context, which only the engine's tool invoker has.</summary>
    protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Name} runs inside the RLM engine only.");

    private string Signature()
    {
        var names = JsonSchema.TryGetProperty("properties", out var props) ? props.EnumerateObject().Select(p => p.Name) : [];
        return $"{Name}({string.Join(", ", names)})";
    }
}
