using Rlm.Tools.Context;

namespace Rlm.Tools.Tests.Context;

/// <summary><see cref="TextLimits.OneLine"/> reads only the start of a long text; what it shows must not change for that.</summary>
public sealed class TextLimitsTests
{
    [Theory]
    [InlineData("short", 10, "short")]
    [InlineData("  two\r\nlines \n", 20, "two lines")]
    [InlineData("exactly10!", 10, "exactly10!")]
    [InlineData("eleven char", 10, "eleven cha…")]
    [InlineData("a\r\nb\r\nc\r\nd\r\ne\r\nf", 5, "a b c…")]
    public void OneLine_ShortTexts(string text, int max, string expected) =>
        Assert.Equal(expected, TextLimits.OneLine(text, max));

    [Fact]
    public void OneLine_LongText_SameAsReadingAllOfIt()
    {
        // 2 MB with line breaks everywhere: the head must come out as if the whole text had been flattened first.
        string text = "\n\n  " + string.Concat(Enumerable.Range(0, 200_000).Select(i => $"line {i}\r\n"));
        string whole = text.ReplaceLineEndings(" ").Trim();

        Assert.Equal(whole[..160] + "…", TextLimits.OneLine(text, 160));
        Assert.Equal(whole, TextLimits.OneLine(text, int.MaxValue));
    }

    [Fact]
    public void OneLine_LongTextOfOnlyBreaksAfterItsStart_StillSaysItWasCut()
    {
        string text = "head" + new string('\n', 1_000) + "tail";

        string line = TextLimits.OneLine(text, 10);

        Assert.StartsWith("head", line, StringComparison.Ordinal);
        Assert.EndsWith("…", line, StringComparison.Ordinal);
        Assert.True(line.Length <= 11);
    }
}
