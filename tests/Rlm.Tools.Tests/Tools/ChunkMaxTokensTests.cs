using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using Rlm.Tools.Tests.TestSupport;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.Tools;

/// <summary><c>chunk</c> with <c>max_tokens</c>: every chunk fits that many <c>o200k_base</c> tokens, and together they cover the context.</summary>
public sealed class ChunkMaxTokensTests
{
    private static readonly Tokenizer s_tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");
    private static readonly string s_log = BuildLog();

    private static List<(int Start, int End)> Parse(string text) =>
        [.. JsonDocument.Parse(text[text.IndexOf('[')..]).RootElement.EnumerateArray().Select(e => (e.GetProperty("start").GetInt32(), e.GetProperty("end").GetInt32()))];

    [Fact]
    public async Task MaxTokens_EachChunkFits_EndsAtLineBreaks_AndTheyCoverEverything()
    {
        var result = await new ToolHarness(s_log).RunAsync("chunk", new { max_tokens = 300 });

        Assert.False(result.IsError, result.Text);
        Assert.Contains("of at most 300 tokens (overlap 0)", result.Text);
        var chunks = Parse(result.Text);
        Assert.True(chunks.Count >= 10, $"{chunks.Count} chunks");
        Assert.Equal(0, chunks[0].Start);
        Assert.Equal(s_log.Length, chunks[^1].End);
        for (int i = 0; i < chunks.Count; i++)
        {
            int tokens = s_tokenizer.CountTokens(s_log.AsSpan(chunks[i].Start, chunks[i].End - chunks[i].Start));
            Assert.InRange(tokens, 150, 300); // fits, and is not needlessly small
            if (i > 0)
            {
                Assert.Equal(chunks[i - 1].End, chunks[i].Start);
                Assert.Equal('\n', s_log[chunks[i].Start - 1]);
            }
        }
    }

    [Fact]
    public async Task MaxTokensAndChunkSize_TheSmallerLimitHolds()
    {
        var result = await new ToolHarness(s_log).RunAsync("chunk", new { chunk_size = 400, max_tokens = 10_000 });

        Assert.Contains("of at most 10,000 tokens and 400 characters", result.Text);
        Assert.All(Parse(result.Text), c => Assert.True(c.End - c.Start <= 400));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, -5)]
    [InlineData(-1, 100)]
    public async Task NeitherLimit_OrANegativeOne_IsAnError(int chunkSize, int maxTokens)
    {
        var result = await new ToolHarness(s_log).RunAsync("chunk", new { chunk_size = chunkSize, max_tokens = maxTokens });

        Assert.True(result.IsError);
        Assert.Contains("give chunk_size (characters) or max_tokens (tokens)", result.Text);
    }

    [Fact]
    public void TheDeclaration_OffersMaxTokens()
    {
        string schema = RlmToolSet.All.Single(t => t.Name == "chunk").JsonSchema.ToString();

        Assert.Contains("\"max_tokens\"", schema);
        Assert.Contains("o200k_base", schema);
    }

    private static string BuildLog()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 2_000; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"2025-01-01 10:{i % 60:00}:00 worker {i % 7} handled request {i} in {i % 113} ms\n");
        }

        return text.ToString();
    }
}
