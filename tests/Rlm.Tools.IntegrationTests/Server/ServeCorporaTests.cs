using System.Net;
using System.Text;
using System.Text.Json;
using Rlm.Tools.IntegrationTests.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;
using static Rlm.Tools.IntegrationTests.Server.ServeTestSupport;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// The corpora API of a real <c>rlm serve</c>: upload (JSON and plain text), listing, queries (whole and streamed as
/// events), the 404s and 400s, and a conversation whose second turn reads the variable its first turn set.
/// </summary>
[Collection(LoopbackOpenAIServerCollection.Name)]
public sealed class ServeCorporaTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Upload_List_Query_AndTheDefaultCorpus()
    {
        string facts = _temp.WriteText("facts.txt", "Notes\nThe launch code is TANGO-4471.\n");
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", facts]);
        using var http = Client(serve.BaseAddress);

        var created = await http.PostAsync("v1/corpora", JsonBody("""{"documents":[{"name":"vault/a.txt","text":"Intro\nThe password is SWORDFISH-9.\n"},{"name":"b.txt","text":"Other"}]}"""));
        string createdBody = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, createdBody);
        var corpus = JsonDocument.Parse(createdBody).RootElement;
        string id = corpus.GetProperty("id").GetString()!;
        Assert.Equal(2, corpus.GetProperty("documents").GetInt32());
        Assert.Equal(40, corpus.GetProperty("characters").GetInt64());
        Assert.Equal($"/v1/corpora/{id}/documents", created.Headers.Location?.ToString());

        var listing = JsonDocument.Parse(await http.GetStringAsync($"v1/corpora/{id}/documents")).RootElement;
        Assert.Equal(["vault/a.txt", "b.txt"], listing.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("name").GetString()!));
        Assert.Equal(35, listing.GetProperty("documents")[0].GetProperty("characters").GetInt64());

        var answer = await http.PostAsync($"v1/corpora/{id}/query", JsonBody("""{"question":"What is the password?"}"""));
        string answerBody = await answer.Content.ReadAsStringAsync();
        output.WriteLine(answerBody);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var result = JsonDocument.Parse(answerBody).RootElement;
        Assert.Contains("SWORDFISH-9", result.GetProperty("answer").GetString(), StringComparison.Ordinal);
        Assert.Equal("final", result.GetProperty("stop_reason").GetString());
        Assert.True(result.GetProperty("usage").GetProperty("total_tokens").GetInt64() > 0);
        Assert.Equal(1, result.GetProperty("turn").GetInt32());
        Assert.Equal(id, result.GetProperty("corpus_id").GetString());
        Assert.Equal(32, result.GetProperty("conversation_id").GetString()!.Length);
        Assert.True(result.TryGetProperty("cost_usd", out _));
        Assert.Contains(result.GetProperty("citations").EnumerateArray(), c => c.GetProperty("document").GetString() == "vault/a.txt" && c.GetProperty("verified").GetBoolean());

        // A plain body is one document, named by ?name=.
        var plain = await http.PostAsync("v1/corpora?name=notes.md", new StringContent("Plain text here.", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.Created, plain.StatusCode);
        string plainId = JsonDocument.Parse(await plain.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        Assert.Equal("notes.md", JsonDocument.Parse(await http.GetStringAsync($"v1/corpora/{plainId}/documents")).RootElement.GetProperty("documents")[0].GetProperty("name").GetString());

        // The corpus loaded at start is "default".
        var defaults = JsonDocument.Parse(await http.GetStringAsync("v1/corpora/default/documents")).RootElement;
        Assert.Equal(facts, defaults.GetProperty("documents")[0].GetProperty("name").GetString());
        var launch = await http.PostAsync("v1/corpora/default/query", JsonBody("""{"question":"What is the launch code?"}"""));
        Assert.Contains("TANGO-4471", await launch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Errors_404ForUnknownIds_400ForBadRequests()
    {
        await using var serve = await ServeProcess.StartAsync(["--offline", "--max-question-chars", "50", "--max-corpus-chars", "100"]);
        using var http = Client(serve.BaseAddress);

        await AssertErrorAsync(await http.GetAsync("v1/corpora/no-such/documents"), 404, "not_found");
        await AssertErrorAsync(await http.PostAsync("v1/corpora/no-such/query", JsonBody("""{"question":"hi?"}""")), 404, "not_found");
        await AssertErrorAsync(await http.GetAsync("v1/corpora/default/documents"), 404, "not_found"); // nothing loaded at start

        var created = await http.PostAsync("v1/corpora", JsonBody("""{"documents":[{"name":"a.txt","text":"Alpha"}]}"""));
        string id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        string unknown = await AssertErrorAsync(await http.PostAsync($"v1/corpora/{id}/query", JsonBody("""{"question":"hi?","conversation_id":"nope"}""")), 404, "not_found");
        Assert.Contains("nope", unknown, StringComparison.Ordinal);

        await AssertErrorAsync(await http.PostAsync($"v1/corpora/{id}/query", JsonBody("""{}""")), 400, "invalid_request");
        await AssertErrorAsync(await http.PostAsync($"v1/corpora/{id}/query", JsonBody(JsonSerializer.Serialize(new { question = new string('q', 51) }))), 400, "invalid_request");
        await AssertErrorAsync(await http.PostAsync("v1/corpora", JsonBody("""{"documents":[]}""")), 400, "invalid_request");
        await AssertErrorAsync(await http.PostAsync("v1/corpora", JsonBody("""{"documents":[{"name":"","text":"x"}]}""")), 400, "invalid_request");
        await AssertErrorAsync(await http.PostAsync("v1/corpora", JsonBody("""{"documents":[{"name":"a","text":"x"},{"name":"a","text":"y"}]}""")), 400, "invalid_request");
        await AssertErrorAsync(await http.PostAsync("v1/corpora", new StringContent("", Encoding.UTF8, "text/plain")), 400, "invalid_request");
        // A document name is one line, whichever way it comes (it was a 500 with an empty body).
        await AssertErrorAsync(await http.PostAsync("v1/corpora", JsonBody("""{"documents":[{"name":"a\nb","text":"x"}]}""")), 400, "invalid_request");
        await AssertErrorAsync(await http.PostAsync("v1/corpora?name=a%0Ab", new StringContent("x", Encoding.UTF8, "text/plain")), 400, "invalid_request");
        // --max-corpus-chars bounds what one upload holds, whole documents counted.
        string tooLarge = await AssertErrorAsync(await http.PostAsync("v1/corpora", new StringContent(new string('x', 101), Encoding.UTF8, "text/plain")), 413, "corpus_too_large");
        Assert.Contains("100", tooLarge, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("v1/corpora", new StringContent(new string('x', 100), Encoding.UTF8, "text/plain"))).StatusCode);
    }

    [Fact]
    public async Task StreamedQuery_SendsTypedEvents_EndingWithTheResult()
    {
        string facts = _temp.WriteText("facts.txt", "Notes\nThe launch code is TANGO-4471.\n");
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", facts]);
        using var http = Client(serve.BaseAddress);

        var response = await http.PostAsync("v1/corpora/default/query?stream=true", JsonBody("""{"question":"What is the launch code?"}"""));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            var lines = block.Split('\n');
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            return (Name: lines[0]["event: ".Length..], Data: JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement);
        }).ToList();

        Assert.Equal("iteration_started", events[0].Name);
        Assert.Equal("iteration_started", events[0].Data.GetProperty("type").GetString());
        Assert.StartsWith("iter 1", events[0].Data.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(events, e => e.Name == "sub_call_started");
        Assert.Equal("result", events[^1].Name);
        Assert.Single(events, e => e.Name == "result");
        Assert.Contains("TANGO-4471", events[^1].Data.GetProperty("answer").GetString(), StringComparison.Ordinal);
        Assert.Equal("final", events[^1].Data.GetProperty("stop_reason").GetString());
    }

    [Fact]
    public async Task Conversation_Turn2ReadsTheVariableTurn1Set_ANewConversationDoesNot()
    {
        const string Secret = "VAR-7781-ZULU"; // not in the corpus: only the variable can bring it back
        var scenario = server.NewScenario(async (context, request) =>
        {
            var messages = request.Json.GetProperty("messages").EnumerateArray().ToList();
            var tool = messages.LastOrDefault(m => m.GetProperty("role").GetString() == "tool");
            bool afterTool = tool.ValueKind == JsonValueKind.Object;
            string reply = request.Body.Contains("What value did you store?", StringComparison.Ordinal)
                ? afterTool
                    ? ToolCall("final", new { answer = "Stored value: " + tool.GetProperty("content").ToString() })
                    : ToolCall("get_variable", new { name = "stored" })
                : afterTool
                    ? ToolCall("final", new { answer = "I stored it." })
                    : ToolCall("set_variable", new { name = "stored", value = Secret });
            await LoopbackOpenAIServer.Json(reply)(context, request);
        });
        string facts = _temp.WriteText("facts.txt", "Notes\nNothing secret here.\n");
        await using var serve = await ServeProcess.StartAsync([.. ProviderArgs(scenario.Endpoint), "--file", facts], ProviderEnvironment);
        using var http = Client(serve.BaseAddress);

        var turn1 = JsonDocument.Parse(await (await http.PostAsync("v1/corpora/default/query", JsonBody("""{"question":"Store a value."}"""))).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("I stored it.", turn1.GetProperty("answer").GetString());
        string conversation = turn1.GetProperty("conversation_id").GetString()!;

        var turn2 = JsonDocument.Parse(await (await http.PostAsync("v1/corpora/default/query", JsonBody(JsonSerializer.Serialize(new { question = "What value did you store?", conversation_id = conversation })))).Content.ReadAsStringAsync()).RootElement;
        output.WriteLine(turn2.ToString());
        Assert.Contains(Secret, turn2.GetProperty("answer").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, turn2.GetProperty("turn").GetInt32());
        Assert.Equal(conversation, turn2.GetProperty("conversation_id").GetString());

        // Turn 2's root request showed turn 1's question and answer.
        var turn2Request = scenario.Requests.First(r => r.Body.Contains("What value did you store?", StringComparison.Ordinal));
        Assert.Contains("Store a value.", turn2Request.Body, StringComparison.Ordinal);

        // A new conversation has no such variable.
        var fresh = JsonDocument.Parse(await (await http.PostAsync("v1/corpora/default/query", JsonBody("""{"question":"What value did you store?"}"""))).Content.ReadAsStringAsync()).RootElement;
        Assert.DoesNotContain(Secret, fresh.GetProperty("answer").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(conversation, fresh.GetProperty("conversation_id").GetString());
        Assert.Equal(1, fresh.GetProperty("turn").GetInt32());
    }
}
