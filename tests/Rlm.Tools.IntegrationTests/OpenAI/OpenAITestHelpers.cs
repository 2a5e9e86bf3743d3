using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.OpenAI;

namespace Rlm.Tools.IntegrationTests.OpenAI;

internal static class OpenAITestHelpers
{
    /// <summary>A fake key; tests assert it is sent as a bearer token and never leaks into exception messages.</summary>
    public const string ApiKey = "sk-test-SECRET-7f3a9c2e1b";

    public const string DefaultModel = "test-model";

    /// <summary>A client from <see cref="OpenAIChatClientFactory.Create"/> on the scenario's base URL (default options unless <paramref name="maxRetries"/> is given).</summary>
    public static IChatClient NewClient(Scenario scenario, string model = DefaultModel, int? maxRetries = null)
        => OpenAIChatClientFactory.Create(
            model,
            ApiKey,
            scenario.Endpoint,
            maxRetries is { } retries ? new OpenAIChatClientFactoryOptions { MaxRetries = retries } : null);

    /// <summary>
    /// A <c>chat.completion</c> whose one choice calls one tool (<c>finish_reason</c> <c>tool_calls</c>, <c>content</c> null),
    /// as a provider answers; <paramref name="cachedTokens"/> adds <c>usage.prompt_tokens_details.cached_tokens</c>.
    /// </summary>
    public static string ToolCallCompletion(int step, string name, string arguments, string model, int promptTokens = 100, int completionTokens = 20, int? cachedTokens = null)
    {
        var usage = new System.Text.Json.Nodes.JsonObject
        {
            ["prompt_tokens"] = promptTokens,
            ["completion_tokens"] = completionTokens,
            ["total_tokens"] = promptTokens + completionTokens,
        };
        if (cachedTokens is { } cached)
        {
            usage["prompt_tokens_details"] = new System.Text.Json.Nodes.JsonObject { ["cached_tokens"] = cached };
        }

        return JsonSerializer.Serialize(new
        {
            id = $"chatcmpl-{step}",
            @object = "chat.completion",
            created = 1700000000,
            model,
            choices = new[]
            {
                new
                {
                    index = 0,
                    finish_reason = "tool_calls",
                    message = new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = $"call_{step}", type = "function", function = new { name, arguments } } } },
                },
            },
            usage,
        });
    }

    /// <summary>The text of a request message whose <c>content</c> is either a string or an array of text parts.</summary>
    public static string ContentText(JsonElement message)
    {
        JsonElement content = message.GetProperty("content");
        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString()!,
            JsonValueKind.Array => string.Concat(content.EnumerateArray()
                .Where(p => p.GetProperty("type").GetString() == "text")
                .Select(p => p.GetProperty("text").GetString())),
            _ => throw new Xunit.Sdk.XunitException($"Unexpected content kind {content.ValueKind}: {message}"),
        };
    }

    /// <summary>Parses a JSON string value (e.g. <c>function.arguments</c>) as JSON.</summary>
    public static JsonElement ParseJsonString(JsonElement stringElement)
    {
        Assert.Equal(JsonValueKind.String, stringElement.ValueKind);
        return JsonDocument.Parse(stringElement.GetString()!).RootElement;
    }

    public static void AssertJsonEqual(string expectedJson, JsonElement actual)
        => Assert.True(
            JsonElement.DeepEquals(JsonDocument.Parse(expectedJson).RootElement, actual),
            $"Expected {expectedJson} but got {actual.GetRawText()}");

    public static void AssertJsonEqual(JsonElement expected, JsonElement actual)
        => Assert.True(JsonElement.DeepEquals(expected, actual), $"Expected {expected.GetRawText()} but got {actual.GetRawText()}");

    public static bool IsAbsentOrNull(JsonElement obj, string property)
        => !obj.TryGetProperty(property, out JsonElement value) || value.ValueKind == JsonValueKind.Null;
}
