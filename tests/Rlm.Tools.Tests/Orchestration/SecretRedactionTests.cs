using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

public sealed class SecretRedactionTests
{
    private const string Key = "sk-proj-abcdefghijklmnop1234567890";
    private const string PlainKey = "plain-secret-value-42";

    [Theory]
    [InlineData("Authorization: Bearer abc.def.ghi", "Authorization: [REDACTED]")]
    [InlineData("{\"authorization\":\"Bearer xyz123456\"}", "{\"authorization\":\"[REDACTED]\"}")]
    [InlineData("bad key sk-abcdefghijklmnopqrstuvwx here", "bad key [REDACTED] here")]
    [InlineData("api-key: 0123456789abcdef", "api-key: [REDACTED]")]
    [InlineData("https://x/v1?api_key=hunter22&x=1", "https://x/v1?api_key=[REDACTED]&x=1")]
    [InlineData("token Bearer 12345678", "token Bearer [REDACTED]")]
    [InlineData("nothing secret at all", "nothing secret at all")]
    public void BuiltInPatterns_AreMasked(string input, string expected) =>
        Assert.Equal(expected, SecretRedactor.Default.Redact(input));

    [Fact]
    public void ConfiguredValues_AreMaskedAnywhere()
    {
        var redactor = new SecretRedactor([PlainKey, "abc"]);
        Assert.Equal("echo [REDACTED]!", redactor.Redact($"echo {PlainKey}!"));
        Assert.Equal("abc stays: too short to be a secret", redactor.Redact("abc stays: too short to be a secret"));
        Assert.True(redactor.ContainsSecret(PlainKey));
        Assert.False(redactor.ContainsSecret("hello"));
    }

    [Fact]
    public async Task EchoedKeys_NeverReachPromptsTraceProgressSpansOrExceptions()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RlmTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        string echo = $"Incorrect API key provided: Authorization: Bearer {Key}; key={PlainKey}";
        var worker = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => throw new HttpRequestException(echo, null, HttpStatusCode.Unauthorized) };
        int step = 0;
        var root = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Interlocked.Increment(ref step) switch
            {
                1 => Task.FromResult(TestChatClient.Calls(("sub_llm", new { query = "q", start = 0, end = 5 }))),
                _ => throw new HttpRequestException(echo, null, HttpStatusCode.Forbidden),
            },
        };
        var progress = new ConcurrentBag<string>();
        var options = new RlmOptions { Progress = new SyncProgress(e => progress.Add(e.Describe() + " " + e)), MaxModelRetries = 0 };
        options.RedactedValues.Add(PlainKey);

        var e = await Assert.ThrowsAsync<RlmModelException>(() => new RecursiveLanguageModel(root, worker, options).QueryAsync("q?", "some context"));

        var texts = new List<string> { e.ToString(), e.Message };
        texts.AddRange(progress);
        texts.AddRange(Flatten(e.PartialResult!.Trajectory).Select(n => n.Label + " " + n.Summary));
        texts.AddRange(root.Requests.SelectMany(r => r.Messages).Select(m => string.Join(" ", m.Contents.Select(c => c is FunctionResultContent f ? f.Result?.ToString() : c.ToString()))));
        texts.AddRange(spans.SelectMany(s => s.Tags.Select(t => t.Value ?? "").Append(s.StatusDescription ?? "")));

        Assert.Contains(texts, t => t.Contains("[REDACTED]", StringComparison.Ordinal)); // the errors did arrive, masked
        Assert.Contains(root.Requests[1].Messages, m => m.Contents.OfType<FunctionResultContent>().Any(r => r.Result!.ToString()!.Contains("Incorrect API key provided", StringComparison.Ordinal)));
        Assert.All(texts, t => Assert.DoesNotContain(Key, t, StringComparison.Ordinal));
        Assert.All(texts, t => Assert.DoesNotContain(PlainKey, t, StringComparison.Ordinal));
        Assert.All(texts, t => Assert.DoesNotContain("abcdefghijklmnop", t, StringComparison.Ordinal));
    }

    private static IEnumerable<RlmTraceNode> Flatten(RlmTraceNode node) => node.Children.SelectMany(Flatten).Prepend(node);

    private sealed class SyncProgress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }
}
