namespace Rlm.Tools.Tests.Orchestration;

/// <summary>The key shapes and URL credentials <see cref="SecretRedactor"/> knows without being told, and the ordinary text it leaves alone.</summary>
public sealed class SecretShapeTests
{
    [Theory]
    [InlineData("openai", "sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z")]
    [InlineData("openai project", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6h_Ij9kLm2")]
    [InlineData("anthropic", "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z-Ab3dEf6hIj9kLm2nOp5q")]
    [InlineData("groq", "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")]
    [InlineData("google", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q")]
    [InlineData("github classic", "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d")]
    [InlineData("github fine-grained", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXY")]
    [InlineData("hugging face", "hf_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb")]
    [InlineData("aws access key id", "AKIAIOSFODNN7EXAMPLE")]
    public void KeyShapes_AreMasked_InProseJsonAndErrors(string provider, string key)
    {
        foreach (string text in new[] { $"the {provider} key is {key}.", $"{{\"error\":\"invalid key '{key}'\"}}", $"{key}" })
        {
            string redacted = SecretRedactor.Default.Redact(text);
            Assert.DoesNotContain(key, redacted, StringComparison.Ordinal);
            Assert.Contains(SecretRedactor.Mask, redacted, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void GoogleKey_IsMaskedWhole_AndStopsAfter39Characters()
    {
        const string Key = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q";
        Assert.Equal(39, Key.Length);
        Assert.Equal("key=[REDACTED] rest", SecretRedactor.Default.Redact($"key={Key} rest")); // as a header-like field
        Assert.Equal("use [REDACTED] here", SecretRedactor.Default.Redact($"use {Key} here"));
    }

    [Theory]
    [InlineData("api-key: 0123456789abcdef0123456789abcdef")]
    [InlineData("api-key=0123456789abcdef0123456789abcdef")]
    [InlineData("\"api-key\": \"0123456789abcdef0123456789abcdef\"")]
    [InlineData("Ocp-Apim-Subscription-Key: 0123456789abcdef0123456789abcdef")]
    [InlineData("x-goog-api-key: 0123456789abcdef0123456789abcdef")]
    public void AzureAndGatewayHeaderValues_AreMasked(string text)
    {
        string redacted = SecretRedactor.Default.Redact(text);
        Assert.DoesNotContain("0123456789abcdef0123456789abcdef", redacted, StringComparison.Ordinal);
        Assert.Contains(SecretRedactor.Mask, redacted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("key")]
    [InlineData("api_key")]
    [InlineData("apikey")]
    [InlineData("access_token")]
    [InlineData("refresh_token")]
    [InlineData("token")]
    [InlineData("sig")]
    [InlineData("signature")]
    [InlineData("X-Amz-Signature")]
    [InlineData("code")]
    [InlineData("client_secret")]
    [InlineData("password")]
    public void QueryParameters_AreMasked_FirstOrLater_OtherParametersKept(string name)
    {
        const string Value = "Zq7-secret%2Fvalue";
        Assert.Equal($"GET https://h.example/v1?{name}=[REDACTED]&page=2 failed",
            SecretRedactor.Default.Redact($"GET https://h.example/v1?{name}={Value}&page=2 failed"));
        Assert.Equal($"\"https://h.example/blob?sv=2024&{name}=[REDACTED]\"",
            SecretRedactor.Default.Redact($"\"https://h.example/blob?sv=2024&{name}={Value}\""));
    }

    [Fact]
    public void UserInfoPassword_IsMasked_UserNameKept()
    {
        Assert.Equal("connect to https://admin:[REDACTED]@db.example:5432/x",
            SecretRedactor.Default.Redact("connect to https://admin:Pa55w0rd!@db.example:5432/x"));
    }

    [Theory]
    [InlineData("The task-management skill set is broad; see the risk-assessment-framework section.")]
    [InlineData("for (int key = 0; key < 10; key++) { map[key] = token; }")]
    [InlineData("var signature = Sign(data); var code = 42; string password = Prompt();")]
    [InlineData("https://example.com/search?q=rust+regex&page=2&sort=desc")]
    [InlineData("The meeting code is on the calendar, and the token count was 1,204.")]
    [InlineData("ghp is a prefix; gsk_ too; AIza alone is not a key; sk-short")]
    [InlineData("Contact admin@example.com or visit https://example.com:8443/path")]
    [InlineData("The hash is 5d41402abc4b2a76b9719d911017c592 and the commit 9fceb02d0ae598e95dc970b74767f19372d61af8.")]
    [InlineData("AKIA is how AWS ids start; ask_me_anything_about_tokens")]
    public void OrdinaryProseAndCode_PassUnchanged(string text) =>
        Assert.Equal(text, SecretRedactor.Default.Redact(text));
}
