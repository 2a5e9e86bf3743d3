using Microsoft.Extensions.AI;
using Rlm.Tools.OpenAI;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>
/// An API key crosses the network only encrypted: <see cref="OpenAIChatClientFactory.Create"/> refuses plain http:// to a
/// host other than loopback when a key is given (unless <see cref="OpenAIChatClientFactoryOptions.AllowInsecureHttp"/>),
/// endpoints are shown without credentials, and a redirect never carries the key along.
/// </summary>
public sealed class InsecureHttpTests(LoopbackOpenAIServer server) : IClassFixture<LoopbackOpenAIServer>
{
    [Theory]
    [InlineData("http://example.com/v1", true)]
    [InlineData("http://192.168.1.20:11434/v1", true)]
    [InlineData("http://10.0.0.5/v1", true)]
    [InlineData("http://loopback/v1", false)] // System.Uri turns this host into "localhost", and the request goes there
    [InlineData("http://localhost.example.com/v1", true)]
    [InlineData("http://[::2]/v1", true)]
    [InlineData("http://localhost:11434/v1", false)]
    [InlineData("http://LOCALHOST/v1", false)]
    [InlineData("http://127.0.0.1:8000/v1", false)]
    [InlineData("http://127.45.6.7/v1", false)]
    [InlineData("http://[::1]:8080/v1", false)]
    [InlineData("https://example.com/v1", false)]
    public void IsInsecureEndpoint_PlainHttpToAnythingButLoopback(string url, bool insecure) =>
        Assert.Equal(insecure, OpenAIChatClientFactory.IsInsecureEndpoint(new Uri(url)));

    [Fact]
    public void Create_KeyOverPlainHttpToRemoteHost_Throws_NamingTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => OpenAIChatClientFactory.Create("m", "sk-test-key-1234567890abcdef", new Uri("http://user:pw@example.com/v1?key=abc")));
        Assert.Equal("endpoint", e.ParamName);
        Assert.Contains("AllowInsecureHttp", e.Message, StringComparison.Ordinal);
        Assert.Contains("http://example.com/v1", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("key=abc", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_AllowedCases_DoNotThrow()
    {
        using var noKey = OpenAIChatClientFactory.Create("m", null, new Uri("http://192.168.1.20:11434/v1")); // a LAN server without a key
        using var loopback = OpenAIChatClientFactory.Create("m", "k-123456", new Uri("http://127.0.0.1:1/v1"));
        using var https = OpenAIChatClientFactory.Create("m", "k-123456", new Uri("https://example.com/v1"));
        using var allowed = OpenAIChatClientFactory.Create("m", "k-123456", new Uri("http://example.com/v1"), new OpenAIChatClientFactoryOptions { AllowInsecureHttp = true });
        Assert.False(new OpenAIChatClientFactoryOptions().AllowInsecureHttp);
    }

    [Theory]
    [InlineData("https://user:secret@example.com/v1?key=abc#frag", "https://example.com/v1")]
    [InlineData("http://127.0.0.1:8080/v1/?api_key=x", "http://127.0.0.1:8080/v1/")]
    [InlineData("https://api.openai.com/v1", "https://api.openai.com/v1")]
    public void DescribeEndpoint_DropsUserInfoQueryAndFragment(string url, string shown) =>
        Assert.Equal(shown, OpenAIChatClientFactory.DescribeEndpoint(new Uri(url)));

    [Fact]
    public async Task Redirect_ToAnotherHost_DoesNotCarryTheKey()
    {
        // The second scenario is reached as "localhost" after the first, on 127.0.0.1, redirects there (307 keeps the POST).
        var target = server.NewScenario(LoopbackOpenAIServer.Json(LoopbackOpenAIServer.TextCompletion("after the redirect")));
        string elsewhere = new UriBuilder(target.Endpoint) { Host = "localhost" }.Uri.ToString().TrimEnd('/') + "/chat/completions";
        var first = server.NewScenario(async (context, _) =>
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = elsewhere;
            await Task.CompletedTask;
        });

        const string Key = "sk-test-REDIRECT-0123456789abcdef";
        using var client = OpenAIChatClientFactory.Create("m", Key, first.Endpoint);
        try
        {
            await client.GetResponseAsync("hi");
        }
        catch (Exception e) when (OpenAIErrors.IsEndpointError(e))
        {
            // Whether the SDK follows the redirect or reports it, the key must not reach the other host.
        }

        Assert.Equal($"Bearer {Key}", first.SingleRequest.Authorization);
        Assert.All(target.Requests, r => Assert.Null(r.Authorization));
    }
}
