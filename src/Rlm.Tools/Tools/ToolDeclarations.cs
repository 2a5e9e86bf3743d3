using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
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

    // A description keeps its characters as they are (no \uXXXX), as the method-made declarations do.
    private static readonly JsonSerializerOptions s_relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Makes a typed method a tool. The declaration is <see cref="AIFunctionFactory"/>'s: it writes the schema from the
    /// method's parameters and their <see cref="DescriptionAttribute"/>s, the <see cref="ToolCallContext"/> left out. The
    /// engine runs the method itself, each argument read by <see cref="ToolArguments"/> (whose errors the tool turns into
    /// results): binding through <see cref="AIFunction.InvokeAsync"/> costs about 1.5 µs and 1 KB per call (argument and
    /// context dictionaries, reflection, boxing), more than the tools themselves at fan-out.
    /// </summary>
    public static RlmTool Create(string name, Delegate method)
    {
        var declaration = AIFunctionFactory.Create(method, new AIFunctionFactoryOptions
        {
            Name = name,
            JsonSchemaCreateOptions = s_schemaOptions,
            ExcludeResultSchema = true,
            ConfigureParameterBinding = static p => p.ParameterType == typeof(ToolCallContext) || p.ParameterType == typeof(WorkerChoice)
                ? new() { ExcludeFromSchema = true, BindParameter = static (_, _) => throw new NotSupportedException("The engine runs its tools itself.") }
                : default,
        });
        var readers = Array.ConvertAll(method.Method.GetParameters(), Reader);
        var invoker = MethodInvoker.Create(method.Method);
        object? target = method.Target;
        return new RlmTool(declaration, (context, arguments, cancellationToken) =>
        {
            var reader = new ToolArguments(arguments);
            var values = new object?[readers.Length];
            for (int i = 0; i < readers.Length; i++)
            {
                values[i] = readers[i](context, reader, cancellationToken);
            }

            object? result;
            try
            {
                result = invoker.Invoke(target, values.AsSpan());
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
                throw;
            }

            return result as Task<ToolOutput> ?? Task.FromResult((ToolOutput)result!);
        });
    }

    /// <summary>How one parameter of a tool method gets its value: the call's context, its token, or an argument.</summary>
    private static Func<ToolCallContext, ToolArguments, CancellationToken, object?> Reader(ParameterInfo parameter)
    {
        var type = parameter.ParameterType;
        string name = parameter.Name!;
        if (type == typeof(ToolCallContext))
        {
            return static (context, _, _) => context;
        }

        if (type == typeof(CancellationToken))
        {
            return static (_, _, cancellationToken) => cancellationToken;
        }

        if (type == typeof(WorkerChoice))
        {
            return static (_, arguments, _) => new WorkerChoice(arguments.Has(WorkerChoice.ArgumentName) ? arguments.GetString(WorkerChoice.ArgumentName) : null);
        }

        if (type == typeof(string) && !parameter.HasDefaultValue)
        {
            return (_, arguments, _) => arguments.GetString(name);
        }

        if (type == typeof(long))
        {
            if (!parameter.HasDefaultValue)
            {
                return (_, arguments, _) => arguments.GetInteger(name);
            }

            long fallback = Convert.ToInt64(parameter.DefaultValue, CultureInfo.InvariantCulture);
            return (_, arguments, _) => arguments.GetInteger(name, fallback);
        }

        if (type == typeof(bool) && parameter.HasDefaultValue)
        {
            bool fallback = (bool)parameter.DefaultValue!;
            return (_, arguments, _) => arguments.GetBoolean(name, fallback);
        }

        throw new NotSupportedException($"Tool parameter '{name}' of type {type.Name} has no argument reader.");
    }

    /// <summary>
    /// The declarations of <paramref name="tools"/> for a run with named workers: <c>sub_llm</c> gets an optional
    /// <c>model</c> argument, a string enum of the workers' names whose description lists each with its description, and
    /// <c>exec_js</c> says how <c>llm_query</c> names one. Without workers the declarations are the plain ones, byte for byte.
    /// </summary>
    public static IEnumerable<AITool> WithWorkers(IEnumerable<RlmTool> tools, IList<RlmWorker> workers)
    {
        foreach (var tool in tools)
        {
            if (workers.Count == 0 || tool.Name is not (RlmToolSet.SubLlm or RlmToolSet.ExecJs))
            {
                yield return tool.AsDeclarationOnly();
                continue;
            }

            string names = string.Join(", ", workers.Select(w => $"\"{w.Name}\""));
            if (tool.Name == RlmToolSet.ExecJs)
            {
                yield return AIFunctionFactory.CreateDeclaration(tool.Name,
                    tool.Description + $" llm_query(prompt, {{model}}) and llm_query_batched(prompts, {{model}}) ask the named worker instead of the default one (model: one of {names}; see sub_llm).",
                    tool.JsonSchema);
                continue;
            }

            var schema = JsonNode.Parse(tool.JsonSchema.GetRawText())!.AsObject();
            var properties = schema["properties"]!.AsObject();
            var list = string.Join("; ", workers.Select(w => w.Description is { Length: > 0 } d ? $"{w.Name}: {d}" : w.Name));
            properties.Add(WorkerChoice.ArgumentName, new JsonObject
            {
                ["type"] = "string",
                ["enum"] = new JsonArray([.. workers.Select(w => (JsonNode)JsonValue.Create(w.Name)!)]),
                ["description"] = $"The worker model to ask (optional; without it the default worker answers). Workers: {list}.",
            });
            yield return AIFunctionFactory.CreateDeclaration(tool.Name, tool.Description, JsonElement.Parse(schema.ToJsonString(s_relaxed)));
        }
    }
}
