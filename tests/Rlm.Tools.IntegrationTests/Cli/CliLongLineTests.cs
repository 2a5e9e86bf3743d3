using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>The real <c>rlm</c> process on one-line files: a grep hit anywhere in the line reaches the answer.</summary>
public sealed class CliLongLineTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(5_000)]
    [InlineData(10_000)]
    public async Task File_OneLongLine_TheHitIsInTheAnswer_WithTheCutCharactersCounted(int wordsAfter)
    {
        // The report's example is 2,000 words, the marker, then 200 characters; the marker also starts or ends the line here.
        string line = string.Concat(Enumerable.Repeat("word ", 2_000)) + "MARKER " + string.Concat(Enumerable.Repeat("tail ", wordsAfter)) + new string('z', 200);
        string path = _temp.WriteText("one-line.txt", line + "\n");

        var result = await RlmProcess.RunAsync("where is MARKER?", "--file", path);

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("MARKER", result.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"…\[[\d,]+ chars\] ", result.StdOut);
        if (wordsAfter > 0)
        {
            Assert.Matches(@" …\[[\d,]+ chars\]", result.StdOut);
        }
    }
}
