using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AIChatFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using AIChatResponseFormat = Microsoft.Extensions.AI.ChatResponseFormat;
using OpenAIChatMessage = OpenAI.Chat.ChatMessage;
using OpenAIChatFinishReason = OpenAI.Chat.ChatFinishReason;
using OpenAIChatResponseFormat = OpenAI.Chat.ChatResponseFormat;

namespace Rlm.Tools.OpenAI;

/// <summary>Static mappings between Microsoft.Extensions.AI types and OpenAI SDK types.</summary>
public sealed partial class OpenAIChatClient
{
    private static readonly JsonTypeInfo<IDictionary<string, object?>> s_argumentsTypeInfo =
        (JsonTypeInfo<IDictionary<string, object?>>)AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>));

    private static readonly BinaryData s_emptyObjectSchema = BinaryData.FromString("""{"type":"object","properties":{}}""");

    // ----------------------------------------------------------------------------------------------------------------
    // Requests
    // ----------------------------------------------------------------------------------------------------------------

    /// <summary>Converts M.E.AI chat messages (plus <see cref="ChatOptions.Instructions"/>) to SDK chat messages.</summary>
    internal static List<OpenAIChatMessage> ToOpenAIChatMessages(IEnumerable<AIChatMessage> messages, ChatOptions? options)
    {
        var result = new List<OpenAIChatMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions))
        {
            result.Add(new SystemChatMessage(options.Instructions));
        }

        foreach (AIChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));

            if (message.RawRepresentation is OpenAIChatMessage raw)
            {
                result.Add(raw);
                continue;
            }

            // Tool results can appear in a message of any role; each becomes its own "tool" message.
            foreach (AIContent content in message.Contents)
            {
                if (content is FunctionResultContent functionResult)
                {
                    result.Add(new ToolChatMessage(functionResult.CallId, ToToolResultString(functionResult)));
                }
            }

            ChatRole role = message.Role;
            if (role == ChatRole.Tool)
            {
                continue;
            }

            if (role == ChatRole.System)
            {
                result.Add(new SystemChatMessage(ConcatText(message.Contents)) { ParticipantName = message.AuthorName });
            }
            else if (role == ChatRole.User)
            {
                if (ToUserMessage(message) is { } user)
                {
                    result.Add(user);
                }
            }
            else if (role == ChatRole.Assistant)
            {
                if (ToAssistantMessage(message) is { } assistant)
                {
                    result.Add(assistant);
                }
            }
            else
            {
                throw new NotSupportedException($"Chat role '{role.Value}' is not supported by the OpenAI Chat Completions API.");
            }
        }

        return result;
    }

    /// <summary>Converts a user message; text-only content is sent as a plain string, images as content parts.</summary>
    private static UserChatMessage? ToUserMessage(AIChatMessage message)
    {
        bool hasNonText = false;
        bool hasText = false;
        foreach (AIContent content in message.Contents)
        {
            switch (content)
            {
                case TextContent:
                    hasText = true;
                    break;
                case UriContent or DataContent:
                    hasNonText = true;
                    break;
            }
        }

        if (!hasNonText)
        {
            return hasText || message.Contents.Count == 0
                ? new UserChatMessage(ConcatText(message.Contents)) { ParticipantName = message.AuthorName }
                : null; // e.g. a user message that only carried tool results.
        }

        var parts = new List<ChatMessageContentPart>();
        foreach (AIContent content in message.Contents)
        {
            switch (content)
            {
                case TextContent text:
                    parts.Add(ChatMessageContentPart.CreateTextPart(text.Text ?? string.Empty));
                    break;
                case UriContent uri when uri.HasTopLevelMediaType("image"):
                    parts.Add(ChatMessageContentPart.CreateImagePart(uri.Uri));
                    break;
                case DataContent data when data.HasTopLevelMediaType("image"):
                    parts.Add(ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(data.Data), data.MediaType));
                    break;
                case UriContent or DataContent:
                    throw new NotSupportedException("Only image attachments are supported in user messages.");
            }
        }

        return new UserChatMessage(parts) { ParticipantName = message.AuthorName };
    }

    /// <summary>Converts an assistant message: text and/or tool calls.</summary>
    private static AssistantChatMessage? ToAssistantMessage(AIChatMessage message)
    {
        List<ChatToolCall>? toolCalls = null;
        foreach (AIContent content in message.Contents)
        {
            if (content is FunctionCallContent call)
            {
                (toolCalls ??= []).Add(ToOpenAIToolCall(call));
            }
        }

        string text = ConcatText(message.Contents);
        if (toolCalls is null)
        {
            return text.Length == 0 && message.Contents.Any(c => c is FunctionResultContent)
                ? null // an assistant message that only carried tool results.
                : new AssistantChatMessage(text) { ParticipantName = message.AuthorName };
        }

        AssistantChatMessage assistant = text.Length == 0
            ? new AssistantChatMessage(toolCalls)
            : new AssistantChatMessage(text);
        if (text.Length != 0)
        {
            foreach (ChatToolCall toolCall in toolCalls)
            {
                assistant.ToolCalls.Add(toolCall);
            }
        }

        assistant.ParticipantName = message.AuthorName;
        return assistant;
    }

    /// <summary>Converts a <see cref="FunctionCallContent"/> to an SDK function tool call with JSON arguments.</summary>
    internal static ChatToolCall ToOpenAIToolCall(FunctionCallContent call)
    {
        BinaryData arguments = call.Arguments is null
            ? BinaryData.FromString("{}")
            : BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(call.Arguments, s_argumentsTypeInfo));
        return ChatToolCall.CreateFunctionToolCall(call.CallId, call.Name, arguments);
    }

    /// <summary>
    /// Renders a tool result as the string content of a <c>tool</c> message: strings as-is, anything else as JSON.
    /// </summary>
    internal static string ToToolResultString(FunctionResultContent result)
    {
        switch (result.Result)
        {
            case null:
                return result.Exception is { } exception ? $"Error: {exception.Message}" : string.Empty;
            case string text:
                return text;
            case JsonElement element:
                return element.ValueKind == JsonValueKind.String ? element.GetString() ?? string.Empty : element.GetRawText();
            case TextContent textContent:
                return textContent.Text ?? string.Empty;
            default:
                try
                {
                    return JsonSerializer.Serialize(result.Result, AIJsonUtilities.DefaultOptions.GetTypeInfo(result.Result.GetType()));
                }
                catch (NotSupportedException)
                {
                    return result.Result.ToString() ?? string.Empty;
                }
        }
    }

    /// <summary>Converts <see cref="ChatOptions"/> to SDK <see cref="ChatCompletionOptions"/> (the model is handled separately).</summary>
    internal static ChatCompletionOptions ToOpenAIOptions(ChatOptions? options, IChatClient client)
    {
        if (options is null)
        {
            return new ChatCompletionOptions();
        }

        ChatCompletionOptions result = options.RawRepresentationFactory?.Invoke(client) as ChatCompletionOptions ?? new ChatCompletionOptions();

        result.Temperature ??= options.Temperature;
        result.TopP ??= options.TopP;
        result.MaxOutputTokenCount ??= options.MaxOutputTokens;
        result.FrequencyPenalty ??= options.FrequencyPenalty;
        result.PresencePenalty ??= options.PresencePenalty;
#pragma warning disable OPENAI001 // ChatCompletionOptions.Seed is marked experimental (OpenAI 2.15).
        result.Seed ??= options.Seed;
#pragma warning restore OPENAI001

        if (options.StopSequences is { Count: > 0 } stops)
        {
            foreach (string stop in stops)
            {
                result.StopSequences.Add(stop);
            }
        }

#pragma warning disable OPENAI001 // Reasoning effort is marked experimental (OpenAI 2.15).
        if (options.Reasoning?.Effort is { } effort && result.ReasoningEffortLevel is null)
        {
            result.ReasoningEffortLevel = ToOpenAIReasoningEffort(effort);
        }
#pragma warning restore OPENAI001

        if (options.Tools is { Count: > 0 } tools)
        {
            foreach (AITool tool in tools)
            {
                if (tool is AIFunctionDeclaration function)
                {
                    result.Tools.Add(ToOpenAIChatTool(function));
                }
            }
        }

        // tool_choice and parallel_tool_calls are only valid when tools are sent.
        if (result.Tools.Count > 0)
        {
            result.ToolChoice ??= ToOpenAIToolChoice(options.ToolMode);
            if (options.AllowMultipleToolCalls is { } allowMultiple)
            {
                result.AllowParallelToolCalls ??= allowMultiple;
            }
        }

        if (result.ResponseFormat is null && options.ResponseFormat is not null)
        {
            result.ResponseFormat = ToOpenAIResponseFormat(options.ResponseFormat);
        }

        return result;
    }

    /// <summary>Converts an <see cref="AIFunctionDeclaration"/> to an SDK function tool (name, description, JSON schema).</summary>
    internal static ChatTool ToOpenAIChatTool(AIFunctionDeclaration function)
    {
        BinaryData parameters = function.JsonSchema.ValueKind == JsonValueKind.Object
            ? BinaryData.FromString(function.JsonSchema.GetRawText())
            : s_emptyObjectSchema;
        return ChatTool.CreateFunctionTool(function.Name, function.Description, parameters);
    }

    /// <summary>Converts a <see cref="ChatToolMode"/> to an SDK tool choice (<see langword="null"/> leaves the server default).</summary>
    internal static ChatToolChoice? ToOpenAIToolChoice(ChatToolMode? mode) => mode switch
    {
        NoneChatToolMode => ChatToolChoice.CreateNoneChoice(),
        AutoChatToolMode => ChatToolChoice.CreateAutoChoice(),
        RequiredChatToolMode { RequiredFunctionName: { } name } => ChatToolChoice.CreateFunctionChoice(name),
        RequiredChatToolMode => ChatToolChoice.CreateRequiredChoice(),
        _ => null,
    };

#pragma warning disable OPENAI001 // ChatReasoningEffortLevel is marked experimental (OpenAI 2.15).
    /// <summary>Converts a <see cref="ReasoningEffort"/> to the SDK's reasoning effort level.</summary>
    internal static ChatReasoningEffortLevel ToOpenAIReasoningEffort(ReasoningEffort effort) => effort switch
    {
        ReasoningEffort.None => ChatReasoningEffortLevel.None,
        ReasoningEffort.Low => ChatReasoningEffortLevel.Low,
        ReasoningEffort.Medium => ChatReasoningEffortLevel.Medium,
        ReasoningEffort.High => ChatReasoningEffortLevel.High,
        ReasoningEffort.ExtraHigh => ChatReasoningEffortLevel.ExtraHigh,
        _ => ChatReasoningEffortLevel.Medium,
    };
#pragma warning restore OPENAI001

    /// <summary>Converts a M.E.AI response format to the SDK's (<c>text</c>, <c>json_object</c> or <c>json_schema</c>).</summary>
    internal static OpenAIChatResponseFormat? ToOpenAIResponseFormat(AIChatResponseFormat format) => format switch
    {
        ChatResponseFormatText => OpenAIChatResponseFormat.CreateTextFormat(),
        ChatResponseFormatJson { Schema: { } schema } json => OpenAIChatResponseFormat.CreateJsonSchemaFormat(
            json.SchemaName ?? "json_schema",
            BinaryData.FromString(schema.GetRawText()),
            json.SchemaDescription),
        ChatResponseFormatJson => OpenAIChatResponseFormat.CreateJsonObjectFormat(),
        _ => null,
    };

    // ----------------------------------------------------------------------------------------------------------------
    // Responses
    // ----------------------------------------------------------------------------------------------------------------

    /// <summary>Converts an SDK <see cref="ChatCompletion"/> to a <see cref="ChatResponse"/>.</summary>
    internal static ChatResponse FromOpenAIChatCompletion(ChatCompletion completion)
    {
        var message = new AIChatMessage(ChatRole.Assistant, (IList<AIContent>)[])
        {
            MessageId = NullIfEmpty(completion.Id),
            CreatedAt = completion.CreatedAt == default ? null : completion.CreatedAt,
            RawRepresentation = completion,
        };

        foreach (ChatMessageContentPart part in completion.Content)
        {
            if (part.Kind == ChatMessageContentPartKind.Text && part.Text is { } text)
            {
                message.Contents.Add(new TextContent(text) { RawRepresentation = part });
            }
            else if (part.Kind == ChatMessageContentPartKind.Refusal && part.Refusal is { } partRefusal)
            {
                message.Contents.Add(new ErrorContent(partRefusal) { ErrorCode = "Refusal", RawRepresentation = part });
            }
        }

        if (!string.IsNullOrEmpty(completion.Refusal))
        {
            message.Contents.Add(new ErrorContent(completion.Refusal) { ErrorCode = "Refusal" });
        }

        foreach (ChatToolCall toolCall in completion.ToolCalls)
        {
            if (toolCall.Kind == ChatToolCallKind.Function && !string.IsNullOrEmpty(toolCall.FunctionName))
            {
                FunctionCallContent call = FromOpenAIFunctionCall(
                    toolCall.Id, toolCall.FunctionName, toolCall.FunctionArguments?.ToString());
                call.RawRepresentation = toolCall;
                message.Contents.Add(call);
            }
        }

#pragma warning disable SCME0001 // Patch (JsonPatch) is marked experimental; see ToRawFinishReasonProperties.
        message.AdditionalProperties = ToRawFinishReasonProperties(ref completion.Patch);
#pragma warning restore SCME0001

        return new ChatResponse(message)
        {
            ResponseId = NullIfEmpty(completion.Id),
            ModelId = NullIfEmpty(completion.Model),
            CreatedAt = message.CreatedAt,
            FinishReason = FromOpenAIFinishReason(completion.FinishReason),
            Usage = completion.Usage is { } usage ? FromOpenAIUsage(usage) : null,
            AdditionalProperties = message.AdditionalProperties?.Clone(),
            RawRepresentation = completion,
        };
    }

#pragma warning disable SCME0001 // JsonPatch is marked experimental in System.ClientModel; the SDK keeps unknown JSON properties there.
    /// <summary>
    /// Returns <c>{ <see cref="RawFinishReasonKey"/>: original }</c> when <see cref="FinishReasonNormalizingPolicy"/>
    /// rewrote the finish reason of the payload a model was read from (it records the original under
    /// <see cref="FinishReasonNormalizer.OriginalFinishReasonProperty"/>, which the SDK keeps in the model's
    /// <c>Patch</c>), otherwise <see langword="null"/>.
    /// </summary>
    private static AdditionalPropertiesDictionary? ToRawFinishReasonProperties(ref JsonPatch patch)
    {
        if (!patch.TryGetJson(FinishReasonNormalizer.OriginalFinishReasonPatchPath, out ReadOnlyMemory<byte> json))
        {
            return null;
        }

        string? original = null;
        var reader = new Utf8JsonReader(json.Span);
        if (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
            original = reader.GetString();
        }

        return new AdditionalPropertiesDictionary { [RawFinishReasonKey] = original };
    }
#pragma warning restore SCME0001

    /// <summary>Converts one SDK streaming update to a <see cref="ChatResponseUpdate"/> (tool-call fragments excluded).</summary>
    internal static ChatResponseUpdate FromOpenAIStreamingUpdate(StreamingChatCompletionUpdate update)
    {
        var result = new ChatResponseUpdate
        {
            Role = FromOpenAIRole(update.Role) ?? ChatRole.Assistant,
            ResponseId = NullIfEmpty(update.CompletionId),
            MessageId = NullIfEmpty(update.CompletionId),
            ModelId = NullIfEmpty(update.Model),
            CreatedAt = update.CreatedAt == default ? null : update.CreatedAt,
            FinishReason = FromOpenAIFinishReason(update.FinishReason),
#pragma warning disable SCME0001 // Patch (JsonPatch) is marked experimental; see ToRawFinishReasonProperties.
            AdditionalProperties = ToRawFinishReasonProperties(ref update.Patch),
#pragma warning restore SCME0001
            RawRepresentation = update,
        };

        foreach (ChatMessageContentPart part in update.ContentUpdate)
        {
            if (part.Kind == ChatMessageContentPartKind.Text && !string.IsNullOrEmpty(part.Text))
            {
                result.Contents.Add(new TextContent(part.Text) { RawRepresentation = part });
            }
        }

        if (!string.IsNullOrEmpty(update.RefusalUpdate))
        {
            result.Contents.Add(new ErrorContent(update.RefusalUpdate) { ErrorCode = "Refusal" });
        }

        if (update.Usage is { } usage)
        {
            result.Contents.Add(new UsageContent(FromOpenAIUsage(usage)) { RawRepresentation = usage });
        }

        return result;
    }

    /// <summary>
    /// Creates a <see cref="FunctionCallContent"/>, parsing <paramref name="argumentsJson"/> into a dictionary of
    /// <see cref="JsonElement"/> values. Never throws on malformed JSON: the raw text is stored under
    /// <see cref="RawArgumentsKey"/> and <see cref="FunctionCallContent.Exception"/> describes the problem, so the caller
    /// can tell the model.
    /// </summary>
    internal static FunctionCallContent FromOpenAIFunctionCall(string? callId, string name, string? argumentsJson)
    {
        callId = string.IsNullOrEmpty(callId) ? "call_" + Guid.NewGuid().ToString("N") : callId;

        if (string.IsNullOrWhiteSpace(argumentsJson))
        {
            return new FunctionCallContent(callId, name, new Dictionary<string, object?>());
        }

        string? problem;
        Exception? inner = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(argumentsJson);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (JsonProperty property in document.RootElement.EnumerateObject())
                {
                    arguments[property.Name] = property.Value.Clone();
                }

                return new FunctionCallContent(callId, name, arguments);
            }

            problem = $"a JSON {document.RootElement.ValueKind} instead of a JSON object";
        }
        catch (JsonException ex)
        {
            problem = $"not valid JSON ({ex.Message})";
            inner = ex;
        }

        return new FunctionCallContent(callId, name, new Dictionary<string, object?> { [RawArgumentsKey] = argumentsJson })
        {
            Exception = new InvalidOperationException(
                $"The arguments of the call to function '{name}' are {problem}. Raw arguments: {argumentsJson}", inner),
        };
    }

    /// <summary>Converts SDK token usage to <see cref="UsageDetails"/>, including cached and reasoning token counts.</summary>
    /// <remarks>
    /// Besides the dedicated properties, the detail counts are copied into <see cref="UsageDetails.AdditionalCounts"/> under
    /// <c>InputTokenDetails.CachedTokenCount</c>, <c>InputTokenDetails.AudioTokenCount</c>,
    /// <c>OutputTokenDetails.ReasoningTokenCount</c> and <c>OutputTokenDetails.AudioTokenCount</c> when the server
    /// reported them.
    /// </remarks>
    internal static UsageDetails FromOpenAIUsage(ChatTokenUsage usage)
    {
        var details = new UsageDetails
        {
            InputTokenCount = usage.InputTokenCount,
            OutputTokenCount = usage.OutputTokenCount,
            TotalTokenCount = usage.TotalTokenCount,
        };

        if (usage.InputTokenDetails is { } input)
        {
            details.CachedInputTokenCount = input.CachedTokenCount;
            details.AdditionalCounts ??= [];
            details.AdditionalCounts["InputTokenDetails.CachedTokenCount"] = input.CachedTokenCount;
            details.AdditionalCounts["InputTokenDetails.AudioTokenCount"] = input.AudioTokenCount;
        }

        if (usage.OutputTokenDetails is { } output)
        {
            details.ReasoningTokenCount = output.ReasoningTokenCount;
            details.AdditionalCounts ??= [];
            details.AdditionalCounts["OutputTokenDetails.ReasoningTokenCount"] = output.ReasoningTokenCount;
            details.AdditionalCounts["OutputTokenDetails.AudioTokenCount"] = output.AudioTokenCount;
        }

        return details;
    }

    /// <summary>Maps the SDK finish reason (stop, length, tool_calls, content_filter, function_call).</summary>
    internal static AIChatFinishReason? FromOpenAIFinishReason(OpenAIChatFinishReason? reason) => reason switch
    {
        null => null,
        OpenAIChatFinishReason.Stop => AIChatFinishReason.Stop,
        OpenAIChatFinishReason.Length => AIChatFinishReason.Length,
        OpenAIChatFinishReason.ToolCalls or OpenAIChatFinishReason.FunctionCall => AIChatFinishReason.ToolCalls,
        OpenAIChatFinishReason.ContentFilter => AIChatFinishReason.ContentFilter,
        _ => new AIChatFinishReason(reason.Value.ToString()),
    };

    /// <summary>Maps an SDK message role.</summary>
    internal static ChatRole? FromOpenAIRole(ChatMessageRole? role) => role switch
    {
        null => null,
        ChatMessageRole.System => ChatRole.System,
        ChatMessageRole.User => ChatRole.User,
        ChatMessageRole.Assistant => ChatRole.Assistant,
        ChatMessageRole.Tool or ChatMessageRole.Function => ChatRole.Tool,
        _ => new ChatRole(role.Value.ToString().ToLowerInvariant()),
    };

    private static string ConcatText(IList<AIContent> contents)
    {
        string? single = null;
        StringBuilder? builder = null;
        foreach (AIContent content in contents)
        {
            if (content is TextContent { Text: { } text })
            {
                if (single is null)
                {
                    single = text;
                }
                else
                {
                    builder ??= new StringBuilder(single);
                    builder.Append(text);
                }
            }
        }

        return builder?.ToString() ?? single ?? string.Empty;
    }
}
