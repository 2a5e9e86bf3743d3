using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;
using static Rlm.Tools.IntegrationTests.Server.ServeTestSupport;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// <c>rlm serve</c> over real HTTP: the OpenAI error shapes, the streamed chunk shape, API keys, the request-size limit and
/// the per-client concurrency limit, with a real process and a loopback provider that holds a query open when a test needs one.
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class ServeHttpTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Facts => _temp.WriteText("facts.txt", "Notes\nThe launch code is TANGO-4471.\nThe capital of Zorbia is Quex.\n");

    [Fact]
    public async Task Errors_HaveTheOpenAIShape_400_404()
    {
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", Facts]);
        using var http = Client(serve.BaseAddress);

        await AssertErrorAsync(await http.PostAsync("v1/chat/completions", JsonBody("{not json")), 400, "invalid_request");
        await AssertErrorAsync(await http.PostAsync("v1/chat/completions", JsonBody("""{"model":"rlm","messages":[]}""")), 400, "invalid_request");
        await AssertErrorAsync(await http.PostAsync("v1/chat/completions", JsonBody("""{"model":"rlm","messages":[{"role":"wizard","content":"hi"}]}""")), 400, "invalid_request");
        string wrongType = await AssertErrorAsync(await http.PostAsync("v1/chat/completions", JsonBody("""{"model":"rlm","stream":"yes","messages":[{"role":"user","content":"hi"}]}""")), 400, "invalid_request");
        Assert.Contains("$.stream has the wrong type (expected true or false)", wrongType, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", wrongType, StringComparison.Ordinal);
        string model = await AssertErrorAsync(await http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("hi", model: "gpt-5"))), 404, "model_not_found");
        Assert.Contains("gpt-5", model, StringComparison.Ordinal);
        string corpus = await AssertErrorAsync(await http.PostAsync("v1/chat/completions", JsonBody("""{"model":"rlm","rlm":{"corpus":"no-such-corpus"},"messages":[{"role":"user","content":"hi"}]}""")), 404, "not_found");
        Assert.Contains("no-such-corpus", corpus, StringComparison.Ordinal);
        await AssertErrorAsync(await http.GetAsync("v1/no/such/route"), 404, "not_found");

        // The configured model id is a name of the service too, and the stored corpus "default" can be named.
        var named = await http.PostAsync("v1/chat/completions", JsonBody("""{"model":"rlm-offline","rlm":{"corpus":"default"},"messages":[{"role":"user","content":"What is the launch code?"}]}"""));
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        Assert.Contains("TANGO-4471", await named.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestsOwnContext_FilePartOrLargeMessage_IsAnsweredOverInsteadOfTheDefaultCorpus()
    {
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", Facts]);
        using var http = Client(serve.BaseAddress);

        // A text file part (data URL) becomes a document named by its filename.
        string data = "data:text/plain;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes("Minutes\nThe vault password is OSPREY-5150.\n"));
        string withFile = JsonSerializer.Serialize(new
        {
            model = "rlm",
            messages = new object[]
            {
                new { role = "user", content = new object[] { new { type = "text", text = "What is the vault password?" }, new { type = "file", file = new { filename = "minutes.txt", file_data = data } } } },
            },
        });
        string answer = await (await http.PostAsync("v1/chat/completions", JsonBody(withFile))).Content.ReadAsStringAsync();
        output.WriteLine(answer);
        Assert.Contains("OSPREY-5150", answer, StringComparison.Ordinal);
        Assert.Contains("minutes.txt", answer, StringComparison.Ordinal);

        // A pasted text of more than 1,000 tokens is a document too.
        string pasted = string.Join('\n', Enumerable.Range(1, 400).Select(i => i == 250 ? "The ferry leaves at 06:45 from pier KESTREL-9." : $"Line {i} of the timetable notes, nothing of interest here."));
        string large = await (await http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("When and where does the ferry leave?\n\n" + pasted)))).Content.ReadAsStringAsync();
        Assert.Contains("KESTREL-9", large, StringComparison.Ordinal);

        // A short question alone is answered over the default corpus.
        string small = await (await http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the launch code?")))).Content.ReadAsStringAsync();
        Assert.Contains("TANGO-4471", small, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_IsServerSentChunks_RoleFirst_ThenContent_ThenFinish_ThenDone()
    {
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", Facts]);
        using var http = Client(serve.BaseAddress);

        var response = await http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the launch code?", stream: true)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        output.WriteLine(body);

        var data = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e.StartsWith("data: ", StringComparison.Ordinal)).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", data[^1]);
        var chunks = data[..^1].Select(d => JsonDocument.Parse(d).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        string content = string.Concat(chunks.Select(c => c.GetProperty("choices")).Where(c => c.GetArrayLength() > 0)
            .Select(c => c[0].GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Contains("TANGO-4471", content, StringComparison.Ordinal);
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _), "no usage chunk without stream_options.include_usage"));

        // Progress goes as comment lines, which clients skip.
        Assert.Contains("\n: iter 1", "\n" + body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeys_401WithoutAValidKey_HealthOpen_AndNoKeyInLogs()
    {
        string keys = _temp.WriteText("keys.txt", "# team keys\nkey-alpha-1234567890\n\n  key-beta-0987654321  \n");
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", Facts, "--api-key-file", keys]);

        using (var anonymous = Client(serve.BaseAddress))
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("healthz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("readyz")).StatusCode);
            var refused = await anonymous.GetAsync("v1/models");
            await AssertErrorAsync(refused, 401, "invalid_api_key");
            Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
            await AssertErrorAsync(await anonymous.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the launch code?"))), 401, "invalid_api_key");
            await AssertErrorAsync(await anonymous.PostAsync("mcp", JsonBody("{}")), 401, "invalid_api_key");
        }

        using (var wrong = Client(serve.BaseAddress, "key-alpha-123456789")) // one character short
        {
            await AssertErrorAsync(await wrong.GetAsync("v1/models"), 401, "invalid_api_key");
        }

        using (var comment = Client(serve.BaseAddress, "# team keys"))
        {
            await AssertErrorAsync(await comment.GetAsync("v1/models"), 401, "invalid_api_key");
        }

        foreach (string key in (string[])["key-alpha-1234567890", "key-beta-0987654321"])
        {
            using var client = Client(serve.BaseAddress, key);
            var answer = await client.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the launch code?")));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Contains("TANGO-4471", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await serve.WaitForStdErrAsync("from key-1");
        await serve.WaitForStdErrAsync("from key-2");
        Assert.DoesNotContain("key-alpha", serve.StdErr + serve.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("key-beta", serve.StdErr + serve.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestTooLarge_413Json_DeclaredOrChunked()
    {
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", Facts, "--max-request-bytes", "4096"]);
        string big = ChatRequest(new string('x', 10_000));
        using (var declared = Client(serve.BaseAddress))
        {
            await AssertErrorAsync(await declared.PostAsync("v1/chat/completions", JsonBody(big)), 413, "request_too_large");
        }

        // The server closes a connection whose body it did not read: a new client for each request.
        using var http = Client(serve.BaseAddress);

        // Without a Content-Length (chunked), the body is cut when it passes the limit.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await AssertErrorAsync(await http.SendAsync(request), 413, "request_too_large");

        // A request under the limit is answered.
        using var small = Client(serve.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await small.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the launch code?")))).StatusCode);
    }

    [Fact]
    public async Task PerClientConcurrency_SecondQueryOfAClientIs429WithRetryAfter_OtherClientsRun()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int arrived = 0;
        var twoArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scenario = server.NewScenario(async (context, request) =>
        {
            if (Interlocked.Increment(ref arrived) == 2)
            {
                twoArrived.TrySetResult();
            }

            await release.Task.WaitAsync(server.ShuttingDown);
            await LoopbackOpenAIServer.Json(ToolCall("final", new { answer = "The code is TANGO-4471." }))(context, request);
        });
        string keys = _temp.WriteText("keys.txt", "key-one-aaaaaaaaaaaa\nkey-two-bbbbbbbbbbbb\n");
        await using var serve = await ServeProcess.StartAsync(
            [.. ProviderArgs(scenario.Endpoint), "--file", Facts, "--api-key-file", keys, "--max-concurrent-queries", "1"], ProviderEnvironment);
        using var one = Client(serve.BaseAddress, "key-one-aaaaaaaaaaaa");
        using var two = Client(serve.BaseAddress, "key-two-bbbbbbbbbbbb");

        var first = one.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the code?")));
        await scenario.FirstRequest.WaitAsync(TimeSpan.FromSeconds(60));

        var busy = await one.PostAsync("v1/chat/completions", JsonBody(ChatRequest("And again?")));
        await AssertErrorAsync(busy, 429, "too_many_concurrent_queries");
        Assert.True(busy.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is sent");

        // Another client has its own share: its query reaches the provider while the first still runs.
        var other = two.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the code?")));
        await twoArrived.Task.WaitAsync(TimeSpan.FromSeconds(60));
        release.SetResult();

        foreach (var response in new[] { await first, await other })
        {
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Contains("TANGO-4471", body, StringComparison.Ordinal);
        }

        // The slot is free again.
        Assert.Equal(HttpStatusCode.OK, (await one.PostAsync("v1/chat/completions", JsonBody(ChatRequest("Once more?")))).StatusCode);
        Assert.DoesNotContain(ProviderKey, serve.StdErr + serve.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProviderFailure_Is502WithARedactedOneLineMessage()
    {
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json($$$"""{"error":{"message":"Bad request for key {{{ProviderKey}}}","type":"invalid_request_error"}}""", status: 400));
        await using var serve = await ServeProcess.StartAsync([.. ProviderArgs(scenario.Endpoint), "--file", Facts], ProviderEnvironment);
        using var http = Client(serve.BaseAddress);

        string message = await AssertErrorAsync(await http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the code?"))), StatusCodes.Status502BadGateway, "model_error");
        Assert.Contains("endpoint failed", message, StringComparison.Ordinal);

        // Streamed, the failure comes after the role chunk as an error event in the same shape, and no [DONE].
        string stream = await (await http.PostAsync("v1/chat/completions", JsonBody(ChatRequest("What is the code?", stream: true)))).Content.ReadAsStringAsync();
        string last = stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("data: ", last, StringComparison.Ordinal);
        Assert.Equal("model_error", JsonDocument.Parse(last["data: ".Length..]).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain("[DONE]", stream, StringComparison.Ordinal);
        Assert.DoesNotContain(ProviderKey, stream + serve.StdErr + serve.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--urls", "https://127.0.0.1:8443", "reverse proxy")]
    [InlineData("--urls", "not a url", "not an address")]
    [InlineData("--api-key-file", "/no/such/keys.txt", "cannot read")]
    [InlineData("--max-concurrent-queries", "0", "at least 1")]
    [InlineData("--max-request-bytes", "10", "at least 1024")]
    [InlineData("--max-corpus-chars", "0", "at least 1")]
    [InlineData("--provider-concurrency", "0", "at least 1")]
    public async Task BadOption_IsOneLineUsageError(string option, string value, string fragment)
    {
        var result = await RlmProcess.RunAsync(["serve", "--offline", option, value]);
        RlmProcess.AssertUsageError(result, fragment);
    }

    [Fact]
    public async Task ListeningBeyondLoopbackWithoutKeys_SaysSo_LoopbackOrKeysDoNot()
    {
        const string Warning = "listening beyond this machine without --api-key-file";
        string keys = _temp.WriteText("keys.txt", "k-1\n");
        await using var open = await ServeProcess.StartAsync(["--offline"], urls: "http://0.0.0.0:0");
        await using var loopback = await ServeProcess.StartAsync(["--offline"]);
        await using var keyed = await ServeProcess.StartAsync(["--offline", "--api-key-file", keys], urls: "http://0.0.0.0:0");

        // The note is written before the listening line; stderr is read as it comes, so give it a moment.
        for (int i = 0; i < 50 && !open.StdErr.Contains(Warning, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains(Warning, open.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(Warning, loopback.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(Warning, keyed.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddressInUse_IsOneLineAndExitCode1_NoStackTrace()
    {
        await using var first = await ServeProcess.StartAsync(["--offline"]);
        var result = await RlmProcess.RunAsync(["serve", "--offline", "--urls", first.BaseAddress.ToString().TrimEnd('/')]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(result.StdErrLines, l => l.StartsWith("rlm: cannot listen on", StringComparison.Ordinal) && l.Contains("address already in use", StringComparison.OrdinalIgnoreCase));
        RlmProcess.AssertNoStackTrace(result);
        Assert.Empty(result.StdOut);
    }

    [Fact]
    public async Task Help_NamesEveryOptionAndRoute()
    {
        var result = await RlmProcess.RunAsync("serve", "--help");
        Assert.Equal(0, result.ExitCode);
        foreach (string text in (string[])["--urls", "--api-key-file", "--max-request-bytes", "--max-concurrent-queries", "--shutdown-timeout", "--file", "--dir", "--offline", "--base-url",
                     "/v1/chat/completions", "/v1/models", "/v1/corpora", "/mcp", "/healthz", "/readyz", "listening on"])
        {
            Assert.Contains(text, result.StdOut, StringComparison.Ordinal);
        }
    }
}
