using System.Text;
using System.Text.Json;
using Rlm.Tools.OpenAI;

namespace Rlm.Tools.IntegrationTests.OpenAI;

/// <summary>Line handling of the server-sent-event rewriting stream, with the body delivered in pieces of every size.</summary>
public sealed class FinishReasonNormalizingStreamTests
{
    private const string Head = "\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\"";

    private static string Chunk(string finishReasonJson, string delta = """{"content":"x"}""")
        => "{" + Head + ",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finishReasonJson + "}]}";

    /// <summary>A stream that returns at most <c>pieceSize</c> bytes per read.</summary>
    private sealed class TricklingStream(byte[] data, int pieceSize) : MemoryStream(data)
    {
        public override int Read(Span<byte> buffer)
        {
            byte[] piece = new byte[Math.Min(buffer.Length, pieceSize)];
            int read = base.Read(piece, 0, piece.Length);
            piece.AsSpan(0, read).CopyTo(buffer);
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, pieceSize));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Read(buffer.Span));
    }

    private static async Task<string> RewriteAsync(string input, int pieceSize, bool async)
    {
        using var stream = new FinishReasonNormalizingStream(new TricklingStream(Encoding.UTF8.GetBytes(input), pieceSize));
        var output = new MemoryStream();
        byte[] buffer = new byte[5]; // a small reader buffer, so output is also handed out in pieces.
        int read;
        while ((read = async ? await stream.ReadAsync(buffer) : stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(64, false)]
    [InlineData(100_000, true)]
    public async Task UntouchedLines_PassThroughByteForByte_AndUnknownReasonsAreRewritten(int pieceSize, bool async)
    {
        string input = string.Concat(
            ": comment with \"finish_reason\":\"eos\"\n",
            "event: message\r\n",
            "data: " + Chunk("null", """{"content":"caf\u00e9 \"finish_reason\":\"eos\""}""") + "\r\n\r\n",
            "data: " + Chunk("\"stop\"") + "\n\n",
            "data:" + Chunk("\"eos\"", """{"content":"wörd"}""") + "\r\r",
            "data: {not json \"finish_reason\":\"eos\"\n\n",
            "data: [DONE]\n\n",
            "data: " + Chunk("\"end_turn\"")); // a final line without a terminator.

        string output = await RewriteAsync(input, pieceSize, async);

        string[] lines = output.Split(["\r\n", "\r", "\n"], StringSplitOptions.None);
        string[] inputLines = input.Split(["\r\n", "\r", "\n"], StringSplitOptions.None);
        Assert.Equal(inputLines.Length, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            if (inputLines[i].Contains("\"eos\"}]}") || inputLines[i].Contains("\"end_turn\""))
            {
                continue;
            }

            Assert.Equal(inputLines[i], lines[i]); // everything else, including the escaped text, unchanged.
        }

        // Terminators are kept exactly.
        Assert.Equal(
            input.Where(c => c is '\r' or '\n').ToArray(),
            output.Where(c => c is '\r' or '\n').ToArray());

        string eosLine = Assert.Single(lines, l => l.Contains("wörd"));
        Assert.StartsWith("data:{", eosLine);
        JsonElement eos = JsonDocument.Parse(eosLine["data:".Length..]).RootElement;
        Assert.Equal("stop", eos.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("wörd", eos.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());

        JsonElement last = JsonDocument.Parse(lines[^1]["data: ".Length..]).RootElement;
        Assert.StartsWith("data: {", lines[^1]);
        Assert.Equal("stop", last.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task UnknownReason_WithToolCallDeltaInTheSameChunk_BecomesToolCalls()
    {
        string input = "data: " + Chunk("\"eos\"", """{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]}""") + "\n\n";

        string output = await RewriteAsync(input, 4, async: true);

        JsonElement chunk = JsonDocument.Parse(output.Trim()["data: ".Length..]).RootElement;
        Assert.Equal("tool_calls", chunk.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task UnknownReason_AfterToolCallDeltasInEarlierChunks_BecomesToolCalls()
    {
        string input = string.Concat(
            "data: " + Chunk("null", """{"content":"a \"tool_calls\": [1] in text is no tool call"}""") + "\n\n",
            "data: " + Chunk("\"eos\"", "{}") + "\n\n",
            "data: " + Chunk("null", """{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]}""") + "\n\n",
            "data: " + Chunk("\"end_turn\"", "{}") + "\n\n");

        string output = await RewriteAsync(input, 3, async: false);

        string[] reasons = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("finish_reason"))
            .Select(r => r.ValueKind == JsonValueKind.Null ? "null" : r.GetString()!)
            .ToArray();
        Assert.Equal(["null", "stop", "null", "tool_calls"], reasons);
    }

    [Fact]
    public async Task LongLine_LargerThanTheReadBuffer_IsRewritten()
    {
        string longText = new('a', 100_000);
        string input = "data: " + Chunk("\"eos\"", "{\"content\":\"" + longText + "\"}") + "\n\n";

        string output = await RewriteAsync(input, 8000, async: false);

        JsonElement chunk = JsonDocument.Parse(output.Trim()["data: ".Length..]).RootElement;
        Assert.Equal("stop", chunk.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(longText, chunk.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
    }
}
