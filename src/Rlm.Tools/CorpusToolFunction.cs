using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rlm.Tools;

/// <summary>
/// The function of <see cref="RecursiveLanguageModel.AsAIFunction(RlmCorpus, RlmCorpusToolOptions)"/> around the one
/// <see cref="AIFunctionFactory"/> made: inside a <see cref="FunctionInvokingChatClient"/> its caller errors (a bad argument,
/// a busy server, a failed inner run) come back as the result text <c>Error: …</c>, because that client shows the calling
/// model only "Error: Function failed." for an exception unless <see cref="FunctionInvokingChatClient.IncludeDetailedErrors"/>
/// is on, and the model could not correct its call. Called directly (an MCP server, a host), it throws as documented.
/// </summary>
internal sealed class CorpusToolFunction(AIFunction inner, JsonElement? returnJsonSchema = null) : DelegatingAIFunction(inner)
{
    /// <inheritdoc />
    public override JsonElement? ReturnJsonSchema => returnJsonSchema ?? base.ReturnJsonSchema;

    /// <summary>The prefix of an error result, as <see cref="FunctionInvokingChatClient"/> words its own.</summary>
    public const string ErrorPrefix = "Error: ";

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await base.InvokeCoreAsync(arguments, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (FunctionInvokingChatClient.CurrentContext is not null && IsForTheCaller(e, cancellationToken))
        {
            return ErrorPrefix + e.Message;
        }
    }

    /// <summary>
    /// <paramref name="returnSchema"/> (the schema of <see cref="RlmToolAnswer"/>) with its <c>answer</c> declared as JSON
    /// text of <paramref name="outputSchema"/> (JSON Schema's <c>contentMediaType</c> and <c>contentSchema</c>).
    /// </summary>
    public static JsonElement? WithAnswerSchema(JsonElement? returnSchema, JsonElement outputSchema)
    {
        if (returnSchema is not { } schema || System.Text.Json.Nodes.JsonNode.Parse(schema.GetRawText()) is not System.Text.Json.Nodes.JsonObject root
            || root["properties"]?["answer"] is not System.Text.Json.Nodes.JsonObject answer)
        {
            return returnSchema;
        }

        answer["contentMediaType"] = "application/json";
        answer["contentSchema"] = System.Text.Json.Nodes.JsonNode.Parse(outputSchema.GetRawText());
        return JsonSerializer.SerializeToElement(root, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(System.Text.Json.Nodes.JsonObject)));
    }

    /// <summary>Errors whose message is written for the calling model (never an unexpected exception's internals).</summary>
    private static bool IsForTheCaller(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => false,
        ArgumentException or JsonException => true, // our argument checks, and M.E.AI's binding of the arguments
        RlmServerBusyException or RlmModelException or RlmAnswerFormatException => true, // both already redacted and meant to be shown
        _ => false,
    };
}
