using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tools;

/// <summary>
/// One of the ten RLM tools: a typed method declared through <see cref="AIFunctionFactory"/> (which writes its JSON
/// schema), run by the tool invoker with a per-call <see cref="ToolCallContext"/>. It returns a
/// <see cref="ToolResult"/> rendered from a typed <see cref="ToolOutput"/>; argument errors become error results, never
/// exceptions.
/// </summary>
internal sealed class RlmTool : AIFunction
{
    private readonly AIFunction _function;
    private readonly Func<ToolCallContext, IDictionary<string, object?>?, CancellationToken, Task<ToolOutput>> _run;

    /// <summary>Pairs a declaration with the method it declares, bound to its arguments (see <see cref="ToolDeclarations.Create"/>).</summary>
    public RlmTool(AIFunction function, Func<ToolCallContext, IDictionary<string, object?>?, CancellationToken, Task<ToolOutput>> run)
    {
        _function = function;
        _run = run;
    }

    public override string Name => _function.Name;

    public override string Description => _function.Description;

    public override JsonElement JsonSchema => _function.JsonSchema;

    /// <summary>Runs the tool; the result's text is already capped at <see cref="RlmOptions.MaxToolOutputChars"/>.</summary>
    public async Task<ToolResult> RunAsync(IDictionary<string, object?>? arguments, ToolCallContext context, CancellationToken cancellationToken)
    {
        ToolOutput output;
        try
        {
            output = await _run(context, arguments, cancellationToken).ConfigureAwait(false);
        }
        catch (ToolArgumentException e)
        {
            output = new ToolError($"{Name}: {e.Message} Expected arguments: {Signature()}.");
        }

        return ToolResult.From(output, context.Options.MaxToolOutputChars);
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
