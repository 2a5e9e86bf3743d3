using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Json.Schema;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// The shape a typed query's answer must have: a JSON schema, made by M.E.AI from the target type exactly as
/// <c>GetResponseAsync&lt;T&gt;</c> makes it (<see cref="ChatResponseFormat.ForJsonSchema{T}"/>), and a check that the
/// answer deserializes to that type. At the root, <c>final</c> is declared with the schema as its <c>answer</c>
/// parameter, and a final answer that fails the check goes back to the model as an error, at most
/// <see cref="RlmOptions.MaxAnswerFormatRetries"/> times per run; the answer after that ends the run as it is.
/// </summary>
internal sealed class AnswerFormat
{
    private readonly Func<string, string?> _check;
    private readonly int _maxRetries;
    private int _retries;

    private AnswerFormat(JsonElement schema, Func<string, string?> check, int maxRetries)
    {
        Schema = schema;
        _check = check;
        _maxRetries = maxRetries;
        FinalDeclaration = Declare(schema);
    }

    /// <summary>
    /// The serializer options of typed answers: M.E.AI's defaults, stricter where the schema is (required members and
    /// non-nullable annotations are enforced, members the type lacks are rejected, as the schema's
    /// <c>additionalProperties: false</c> says).
    /// </summary>
    public static JsonSerializerOptions SerializerOptions { get; } = CreateSerializerOptions();

    /// <summary>Gets the answer's JSON schema.</summary>
    public JsonElement Schema { get; }

    /// <summary>Gets the declaration of <c>final</c> for this format: its <c>answer</c> parameter is the schema.</summary>
    public AIFunctionDeclaration FinalDeclaration { get; }

    /// <summary>The format of answers of type <typeparamref name="T"/>.</summary>
    public static AnswerFormat For<T>(int maxRetries)
    {
        var format = ChatResponseFormat.ForJsonSchema<T>(SerializerOptions);
        var typeInfo = (JsonTypeInfo<T>)SerializerOptions.GetTypeInfo(typeof(T));
        return new AnswerFormat(format.Schema!.Value, json => TryDeserialize(json, typeInfo, out _), maxRetries);
    }

    /// <summary>
    /// The format of answers that must match <paramref name="schema"/> (a request's <see cref="ChatResponseFormatJson.Schema"/>),
    /// checked by JsonSchema.Net: the answer must be JSON and valid against the schema.
    /// </summary>
    /// <exception cref="ArgumentException">JsonSchema.Net cannot read <paramref name="schema"/>.</exception>
    public static AnswerFormat ForSchema(JsonElement schema, int maxRetries)
    {
        JsonSchema validator;
        try
        {
            validator = JsonSchema.FromText(schema.GetRawText());
        }
        catch (Exception e) when (e is JsonException or JsonSchemaException or ArgumentException or InvalidOperationException or NotSupportedException or FormatException)
        {
            throw new ArgumentException($"The response format's JSON schema could not be read: {e.Message}", nameof(schema), e);
        }

        return new AnswerFormat(schema, json => Validate(validator, json), maxRetries);
    }

    /// <summary>Throws <see cref="RlmAnswerFormatException"/> when the run's answer does not fit this format (its retries spent, or no final answer).</summary>
    /// <exception cref="RlmAnswerFormatException">The answer does not fit.</exception>
    public void EnsureValid(RlmResult result)
    {
        string? error = result.Answer.Length == 0 ? "the run ended without an answer." : _check(result.Answer);
        if (error is not null)
        {
            string how = result.IsFinal ? $"after {result.Statistics.AnswerFormatRetries} retries" : "and the run stopped without a final answer";
            throw new RlmAnswerFormatException($"The answer does not match the response format's JSON schema {how}: {Context.TextLimits.OneLine(error, 300)}", result.Answer, typeof(JsonElement), result);
        }
    }

    /// <summary>The reasons <paramref name="json"/> is not valid against <paramref name="schema"/> (at most five), or <see langword="null"/> when it is.</summary>
    private static string? Validate(JsonSchema schema, string json)
    {
        JsonElement element;
        try
        {
            using var document = JsonDocument.Parse(json);
            element = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return $"the answer is not JSON: {e.Message}";
        }

        var results = schema.Evaluate(element, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return null;
        }

        var reasons = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {e.Value}"))
            .Distinct().Take(5).ToList();
        return reasons.Count == 0 ? "the answer is not valid against the schema." : string.Join("; ", reasons) + ".";
    }

    /// <summary>Reads <paramref name="json"/> as <typeparamref name="T"/>; the error message when it does not fit, else <see langword="null"/>.</summary>
    public static string? TryDeserialize<T>(string json, JsonTypeInfo<T> typeInfo, out T? value)
    {
        value = default;
        try
        {
            value = JsonSerializer.Deserialize(json, typeInfo);
            return value is null && default(T) is null ? "the answer is null." : null;
        }
        catch (JsonException e)
        {
            return e.Message;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or FormatException or ArgumentException)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Runs a typed <c>final</c>: its <c>answer</c> argument as JSON text (a JSON string holding JSON is taken as that
    /// JSON, so a model that quotes its object is not refused), or an error when it is missing.
    /// </summary>
    public ToolResult Final(IDictionary<string, object?>? arguments, int maxChars)
    {
        if (arguments is null || !arguments.TryGetValue("answer", out object? value) || value is null)
        {
            return ToolResult.Error("final: the answer argument is missing. Send final({\"answer\": <a JSON value of the answer parameter's schema>}).");
        }

        var element = value switch
        {
            JsonElement e => e,
            string s => JsonSerializer.SerializeToElement(s, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(string))),
            JsonNode node => JsonSerializer.SerializeToElement(node, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonNode))),
            _ => JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
        };
        // A quoted object or array that does not fit either is judged as the object it holds: the model then reads what
        // is wrong inside it, not that a string is no object.
        string raw = element.GetRawText();
        string json = element.ValueKind == JsonValueKind.String && element.GetString() is { } inner
            && (_check(inner) is null || (_check(raw) is not null && IsObjectOrArray(inner)))
            ? inner
            : raw;
        return ToolResult.From(new FinalAnswerResult(json, Variable: null), maxChars);
    }

    private static bool IsObjectOrArray(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Checks a final answer: valid, it stands; invalid, it becomes an error result with the reason while retries are
    /// left (each counted in <paramref name="statistics"/>), and stands as it is once they are spent (the caller then
    /// raises <see cref="RlmAnswerFormatException"/>).
    /// </summary>
    public ToolResult Check(ToolResult result, string tool, RunStatistics statistics)
    {
        if (result.FinalAnswer is not { } answer || _check(answer) is not { } error)
        {
            return result;
        }

        int retry = Interlocked.Increment(ref _retries);
        if (retry > _maxRetries)
        {
            return result;
        }

        statistics.RecordAnswerFormatRetry();
        return ToolResult.Error($"{tool}: the answer does not match the required JSON schema: {Context.TextLimits.OneLine(error, 500)} The run continues: call final again with an answer that matches the schema of its answer parameter (retry {retry} of {_maxRetries}).");
    }

    /// <summary>The built-in <c>final</c>, its <c>answer</c> parameter replaced by <paramref name="schema"/> (without its <c>$schema</c> keyword, which belongs at a document's root).</summary>
    private static AIFunctionDeclaration Declare(JsonElement schema)
    {
        var final = RlmToolSet.All.First(t => t.Name == RlmToolSet.Final);
        var parameters = JsonNode.Parse(final.JsonSchema.GetRawText())!.AsObject();
        var answer = JsonNode.Parse(schema.GetRawText()) as JsonObject ?? [];
        answer.Remove("$schema");
        answer["description"] = "The complete final answer: a JSON value that matches this schema." + (answer["description"] is { } d ? " " + d.GetValue<string>() : "");
        parameters["properties"]!["answer"] = answer;
        var json = JsonSerializer.SerializeToElement(parameters, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonObject)));
        return AIFunctionFactory.CreateDeclaration(RlmToolSet.Final, "Finish with this answer, a JSON value that matches the schema of the answer parameter. Call it once the answer is verified.", json);
    }

    private static JsonSerializerOptions CreateSerializerOptions()
    {
        var options = new JsonSerializerOptions(AIJsonUtilities.DefaultOptions)
        {
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        };
        options.MakeReadOnly();
        return options;
    }
}
