namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// The question is the positional argument and --file takes one path, however people write it: every spelling as a real
/// <c>rlm</c> process, and a question that did land in --file gets a message saying it was read as a path.
/// </summary>
public sealed class CliQuestionArgumentTests : IDisposable
{
    private const string Question = "What is the launch code?";
    private readonly TempDirectory _temp = new();

    public CliQuestionArgumentTests()
    {
        _temp.WriteText("notes.txt", "Mission log.\nThe launch code is TANGO-4471.\n");
        _temp.WriteText("more.txt", "The backup code is ZULU-9.\n");
    }

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("--file", "notes.txt", Question)]
    [InlineData("--file=notes.txt", Question)]
    [InlineData("-f", "notes.txt", Question)]
    [InlineData(Question, "--file", "notes.txt")]
    [InlineData(Question, "--file=notes.txt")]
    [InlineData("--file", "notes.txt", "--file", "more.txt", Question)]
    [InlineData("--file", "notes.txt", Question, "--file", "more.txt")]
    [InlineData("chat", "--file", "notes.txt", Question)]
    [InlineData("chat", "--file=notes.txt", Question)]
    [InlineData("chat", Question, "--file", "notes.txt")]
    public async Task EverySpelling_ReadsTheFile_AndAnswersTheQuestion(params string[] args)
    {
        var run = await RlmProcess.RunAsync(args, workingDirectory: _temp.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("TANGO-4471", run.StdOut, StringComparison.Ordinal);
        Assert.Contains($"Best-matching lines for \"{Question}\"", run.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--file", Question, "notes.txt" }, "file not found: What is the launch code? (this was read as the path of --file")]
    [InlineData(new[] { "--file", Question }, "the question is missing")]
    [InlineData(new[] { "chat", "--file", Question }, "file not found: What is the launch code? (this was read as the path of --file")]
    public async Task AQuestionTakenForThePath_TheMessageSaysSo_AndHowToWriteIt(string[] args, string expected)
    {
        var run = await RlmProcess.RunAsync(args, workingDirectory: _temp.Path);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.StdErr, StringComparison.Ordinal);
        Assert.Contains("which takes one path: give the question as its own quoted argument, e.g. rlm \"What is the launch code?\" --file notes.txt", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingFileNamedLikeAFile_GetsNoQuestionHint()
    {
        var run = await RlmProcess.RunAsync([Question, "--file", "nosuch.txt"], workingDirectory: _temp.Path);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("file not found: nosuch.txt", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("read as the path", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuestionFile_SizeLimit_IsInTheHelp_AndEnforced()
    {
        var help = await RlmProcess.RunAsync("--help");
        Assert.Contains("At most 1,048,576 characters", help.StdOut, StringComparison.Ordinal);

        string big = _temp.WriteText("question.txt", new string('q', 1_048_577));
        var run = await RlmProcess.RunAsync(["--question-file", big, "--file", "notes.txt"], workingDirectory: _temp.Path);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("the question is too long", run.StdErr, StringComparison.Ordinal);
    }
}
