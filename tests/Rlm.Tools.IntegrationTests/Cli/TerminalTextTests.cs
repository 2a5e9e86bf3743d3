using Rlm.Tools.Cli;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>What <see cref="TerminalText"/> and <see cref="InertTextWriter"/> let reach a terminal: no control character but line feed and tab.</summary>
public sealed class TerminalTextTests
{
    [Theory]
    [InlineData("\u001b[31mred\u001b[0m", "^[[31mred^[[0m")]
    [InlineData("\u001b]0;pwned\u0007title", "^[]0;pwned^Gtitle")]
    [InlineData("\u001b]52;c;ZXZpbA==\u001b\\clip", "^[]52;c;ZXZpbA==^[\\clip")]
    [InlineData("bell\u0007 nul\0 del\u007f", "bell^G nul^@ del^?")]
    [InlineData("8-bit CSI \u009b31m and NEL \u0085", "8-bit CSI <U+009B>31m and NEL <U+0085>")]
    [InlineData("admin\u202Egnp.exe \u2066iso\u2069", "admin<U+202E>gnp.exe <U+2066>iso<U+2069>")]
    [InlineData("overwrite\rshown", "overwrite^Mshown")]
    [InlineData("keep\tthe\nlayout\r\nhere", "keep\tthe\nlayout\r\nhere")]
    [InlineData("plain text, ünïcödé, 日本語, emoji 🙂", "plain text, ünïcödé, 日本語, emoji 🙂")]
    public void Inert_ShowsEveryControlCharacter(string input, string expected) =>
        Assert.Equal(expected, TerminalText.Inert(input));

    [Fact]
    public void Inert_TextWithoutControls_IsTheSameInstance()
    {
        string text = "nothing to change here";
        Assert.Same(text, TerminalText.Inert(text));
    }

    [Fact]
    public void Writer_SequenceSplitAcrossWrites_StaysInert_CrlfKept_LoneCrShown()
    {
        var inner = new StringWriter { NewLine = "\n" };
        using var writer = new InertTextWriter(inner);
        writer.Write('\u001b');
        writer.Write("[2J");
        writer.Write(new[] { 'a', '\u009b', 'b' }, 0, 3);
        writer.Write("line\r");
        writer.Write("\nnext\r");
        writer.Write("x");
        writer.WriteLine("done\u0007");
        Assert.Equal("^[[2Ja<U+009B>bline\r\nnext^Mxdone^G\n", inner.ToString());
        Assert.DoesNotContain(inner.ToString(), c => c == '\u001b' || c == '\u0007' || c == '\u009b');
    }
}
