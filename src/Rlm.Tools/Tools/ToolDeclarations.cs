using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rlm.Tools.Tools;

/// <summary>Turns the tools' typed methods into the declarations the model sees, through <see cref="AIFunctionFactory"/>.</summary>
internal static class ToolDeclarations
{
    /// <summary>
    /// The schema options of every tool: no additional properties; no <c>default</c> keys (each description states its
    /// default in words); <c>type</c> before <c>description</c>. The declarations are the bytes they were when written
    /// by hand, so a provider's prompt cache keeps matching.
    /// </summary>
    private static readonly AIJsonSchemaCreateOptions s_schemaOptions = new()
    {
        TransformOptions = new AIJsonSchemaTransformOptions
        {
            DisallowAdditionalProperties = true,
            TransformSchemaNode = static (_, node) =>
            {
                if (node is JsonObject obj)
                {
                    obj.Remove("default");
                    if (obj.ContainsKey("type") && obj["description"] is { } description)
                    {
                        obj.Remove("description");
                        obj.Add("description", description);
                    }
                }

                return node;
            },
        },
    };

    /// <summary>
    /// Makes a typed method a tool: <see cref="AIFunctionFactory"/> writes the schema from its parameters and their
    /// <see cref="DescriptionAttribute"/>s; the <see cref="ToolCallContext"/> comes from the invocation's context and stays
    /// out of the schema; every other argument is read by <see cref="ToolArguments"/>, whose errors the tool turns into
    /// results; the typed result comes back as it is.
    /// </summary>
    public static RlmTool Create(string name, Delegate method) =>
        new(AIFunctionFactory.Create(method, new AIFunctionFactoryOptions
        {
            Name = name,
            JsonSchemaCreateOptions = s_schemaOptions,
            ExcludeResultSchema = true,
            ConfigureParameterBinding = Bind,
            MarshalResult = static (result, _, _) => new ValueTask<object?>(result),
        }));

    private static AIFunctionFactoryOptions.ParameterBindingOptions Bind(ParameterInfo parameter)
    {
        var type = parameter.ParameterType;
        if (type == typeof(CancellationToken))
        {
            return default;
        }

        if (type == typeof(ToolCallContext))
        {
            return new() { ExcludeFromSchema = true, BindParameter = static (_, arguments) => arguments.Context![typeof(ToolCallContext)] };
        }

        string name = parameter.Name!;
        if (type == typeof(string) && !parameter.HasDefaultValue)
        {
            return new() { BindParameter = (_, arguments) => new ToolArguments(arguments).GetString(name) };
        }

        if (type == typeof(long))
        {
            return parameter.HasDefaultValue
                ? new() { BindParameter = (_, arguments) => new ToolArguments(arguments).GetInteger(name, Convert.ToInt64(parameter.DefaultValue, CultureInfo.InvariantCulture)) }
                : new() { BindParameter = (_, arguments) => new ToolArguments(arguments).GetInteger(name) };
        }

        if (type == typeof(bool) && parameter.HasDefaultValue)
        {
            return new() { BindParameter = (_, arguments) => new ToolArguments(arguments).GetBoolean(name, (bool)parameter.DefaultValue!) };
        }

        throw new NotSupportedException($"Tool parameter '{name}' of type {type.Name} has no argument reader.");
    }
}
