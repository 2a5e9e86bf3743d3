using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>Requests and canned provider replies shared by the <c>rlm serve</c> tests.</summary>
internal static class ServeTestSupport
{
    /// <summary>The provider API key the tests give <c>rlm serve</c>: it must never show in a response or a log.</summary>
    public const string ProviderKey = "sk-test-provider-SECRET-0042";

    public static HttpClient Client(Uri baseAddress, string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(120) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    public static string ChatRequest(string question, bool stream = false, string model = "rlm") =>
        JsonSerializer.Serialize(new { model, stream, messages = new[] { new { role = "user", content = question } } });

    /// <summary>Asserts the OpenAI error shape with <paramref name="code"/> and returns the message.</summary>
    public static async Task<string> AssertErrorAsync(HttpResponseMessage response, int status, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        using var document = JsonDocument.Parse(body);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out _), "param is present (null or a name)");
        string message = error.GetProperty("message").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.DoesNotContain(ProviderKey, body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u00", body, StringComparison.Ordinal); // text as itself ('gpt-5', not \u0027gpt-5\u0027)
        return message;
    }

    /// <summary>A chat completion whose message is one call of <paramref name="tool"/>; usage 30 in / 12 out.</summary>
    public static string ToolCall(string tool, object arguments)
    {
        string json = JsonSerializer.Serialize(JsonSerializer.Serialize(arguments));
        return "{\"id\":\"chatcmpl-serve\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"server-model\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
               "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"" + tool + "\",\"arguments\":" + json + "}}]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }

    /// <summary>The arguments of <c>rlm serve</c> against a loopback provider scenario.</summary>
    public static string[] ProviderArgs(Uri endpoint) => ["--base-url", endpoint.ToString(), "--model", "server-model", "--max-iterations", "4"];

    public static Dictionary<string, string?> ProviderEnvironment => new() { ["OPENAI_API_KEY"] = ProviderKey };
}
