using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tools;

/// <summary>
/// One of the ten RLM tools bound to a session: an <see cref="AIFunction"/> whose JSON schema is declared to the model
/// and whose invocation runs the tool against the session's <see cref="ToolContext"/>. Invocation returns a
/// <see cref="ToolResult"/>; argument errors become error results, never exceptions.
/// </summary>
internal sealed class RlmTool : AIFunction
{
    private readonly ToolContext _context;
    private readonly Func<ToolContext, ToolArguments, CancellationToken, Task<ToolResult>> _handler;

    public RlmTool(string name, string description, JsonElement schema, ToolContext context, Func<ToolContext, ToolArguments, CancellationToken, Task<ToolResult>> handler)
    {
        Name = name;
        Description = description;
        JsonSchema = schema;
        _context = context;
        _handler = handler;
    }

    public override string Name { get; }

    public override string Description { get; }

    public override JsonElement JsonSchema { get; }

    /// <summary>Runs the tool; the result's text is already capped at <see cref="RlmOptions.MaxToolOutputChars"/>.</summary>
    public async Task<ToolResult> RunAsync(IDictionary<string, object?>? arguments, CancellationToken cancellationToken)
    {
        ToolResult result;
        try
        {
            result = await _handler(_context, new ToolArguments(arguments), cancellationToken).ConfigureAwait(false);
        }
        catch (ToolArgumentException e)
        {
            result = ToolResult.Error($"{Name}: {e.Message} Expected arguments: {Signature()}.");
        }

        int max = _context.Options.MaxToolOutputChars;
        return result.Text.Length <= max ? result : result with { Text = TextLimits.Cap(result.Text, max) };
    }

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
        (await RunAsync(arguments, cancellationToken).ConfigureAwait(false)).Text;

    private string Signature()
    {
        var names = JsonSchema.TryGetProperty("properties", out var props) ? props.EnumerateObject().Select(p => p.Name) : [];
        return $"{Name}({string.Join(", ", names)})";
    }
}
