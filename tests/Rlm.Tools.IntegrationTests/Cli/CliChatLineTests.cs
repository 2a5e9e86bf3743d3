using System.Diagnostics;
using System.Text.Json;
using Rlm.Tools.Cli;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>rlm chat</c> as people use it: piped answers kept apart, a first question on the command line, the line editor at a
/// real terminal (tmux), and <c>/usage</c> of an unpriced model after <c>/reset</c>. Real <c>rlm</c> processes.
/// </summary>
public sealed class CliChatLineTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private const string Notes = """
        Mission log, day 1.
        The launch code is TANGO-4471.
        The mission was signed by Admiral Vega.
        The budget is 12 million credits.
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task PipedAnswers_AreSeparatedByOneEmptyLine()
    {
        string notes = _temp.WriteText("notes.txt", Notes);

        var result = await RlmProcess.RunAsync(["chat", "--file", notes], stdin: "What is the launch code?\nWho signed the mission?\nWhat is the budget?\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        string[] answers = result.StdOut.Split("\n\n");
        Assert.Equal(3, answers.Length);
        Assert.All(answers, a => Assert.StartsWith("[offline model: keyword retrieval, not an LLM]", a, StringComparison.Ordinal));
        Assert.Contains("TANGO-4471", answers[0], StringComparison.Ordinal);
        Assert.Contains("Admiral Vega", answers[1], StringComparison.Ordinal);
        Assert.Contains("12 million", answers[2], StringComparison.Ordinal);
        Assert.EndsWith("\n", result.StdOut, StringComparison.Ordinal);
        Assert.False(result.StdOut.EndsWith("\n\n", StringComparison.Ordinal), "no separator after the last answer");
    }

    [Fact]
    public async Task AQuestionArgument_IsAskedFirst_ThenStandardInput()
    {
        string notes = _temp.WriteText("notes.txt", Notes);

        var both = await RlmProcess.RunAsync(["chat", "--file", notes, "What is the launch code?"], stdin: "Who signed the mission?\n");
        var before = await RlmProcess.RunAsync(["chat", "What is the launch code?", "--file", notes]);
        var equals = await RlmProcess.RunAsync(["chat", $"--file={notes}", "What is the launch code?"]);

        Assert.True(both.ExitCode == 0, both.ToString());
        string[] answers = both.StdOut.Split("\n\n");
        Assert.Equal(2, answers.Length);
        Assert.Contains("TANGO-4471", answers[0], StringComparison.Ordinal);
        Assert.Contains("Admiral Vega", answers[1], StringComparison.Ordinal);
        foreach (var one in new[] { before, equals })
        {
            Assert.True(one.ExitCode == 0, one.ToString());
            Assert.Contains("TANGO-4471", one.StdOut, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TwoQuestionArguments_OrAPathTakenForTheQuestion_AreUsageErrorsThatSayWhy()
    {
        string notes = _temp.WriteText("notes.txt", Notes);
        string other = _temp.WriteText("other.txt", "x\n");

        var two = await RlmProcess.RunAsync(["chat", "--file", notes, "first?", "second?"]);
        var path = await RlmProcess.RunAsync(["chat", "--file", notes, other, "q?"]);

        Assert.Equal(2, two.ExitCode);
        Assert.Contains("at most one question argument ('second?' is one too many)", two.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, path.ExitCode);
        Assert.Contains($"{other}: --file takes one path; repeat it for several files", path.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_AfterReset_ForAnUnpricedModel_SaysTheCostIsUnknown_NotZero()
    {
        string notes = _temp.WriteText("notes.txt", Notes);
        var scenario = server.NewScenario(LoopbackOpenAIServer.Json(
            "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"local-llama\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
            "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"final\",\"arguments\":" + JsonSerializer.Serialize("{\"answer\":\"TANGO-4471\"}") + "}}]},\"finish_reason\":\"tool_calls\"}]," +
            "\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}"));

        var result = await RlmProcess.RunAsync(
            ["chat", "--file", notes, "--base-url", scenario.Endpoint.ToString(), "--model", "local-llama"],
            stdin: "/usage\nWhat is the launch code?\n/usage\n/reset\n/usage\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        var usage = result.StdErrLines.Where(l => l.StartsWith("rlm: usage: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, usage.Count);
        Assert.All(usage, l => Assert.DoesNotContain("$", l, StringComparison.Ordinal));
        Assert.All(usage, l => Assert.Contains("cost unknown (model 'local-llama' has no price)", l, StringComparison.Ordinal));
        Assert.Contains("this conversation 0 turns, 0 tokens", usage[2], StringComparison.Ordinal);
        Assert.Contains("since start (1 reset) 1 turn, 42 tokens", usage[2], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, true, "xterm-256color", true, "Stream")]
    [InlineData(false, false, null, false, "Stream")]
    [InlineData(true, true, "xterm-256color", true, "LineEditor")]
    [InlineData(true, true, "dumb", true, "TerminalLine")]
    [InlineData(true, false, "xterm", true, "TerminalLine")]
    [InlineData(true, true, "xterm", false, "TerminalLine")]
    public void LineEditor_IsChosenOnlyForATerminalThatCanShowIt(bool inputIsTerminal, bool stderrIsTerminal, string? term, bool supported, string expected)
        => Assert.Equal(expected, ChatLineReader.Choose(inputIsTerminal, stderrIsTerminal, term, supported).ToString());

    [Fact]
    public async Task AtARealTerminal_TheLineEditorRecallsHistoryWithUp_AndCtrlDEnds()
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("SKIPPED: tmux needs a POSIX system.");
            return;
        }

        string notes = _temp.WriteText("notes.txt", Notes);
        string answers = Path.Combine(_temp.Path, "answers.txt");
        string session = "rlm-chat-" + Guid.NewGuid().ToString("N")[..8];
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        string command = $"env -u OPENAI_API_KEY -u OPENAI_BASE_URL TERM=xterm-256color '{dotnet}' '{RlmProcess.RlmDll}' chat --file '{notes}' > '{answers}'; echo EXITED=$? >> '{answers}'";
        await TmuxAsync("new-session", "-d", "-s", session, "-x", "160", "-y", "40", command);
        try
        {
            await WaitForAsync(() => TmuxAsync("capture-pane", "-p", "-t", session), s => s.Contains("rlm>", StringComparison.Ordinal));
            // Typed with a mistake fixed by the editor: Left moves back over "code?", then "launch " is inserted.
            await TmuxAsync("send-keys", "-t", session, "-l", "What is the code?");
            for (int i = 0; i < "code?".Length; i++)
            {
                await TmuxAsync("send-keys", "-t", session, "Left");
            }

            await TmuxAsync("send-keys", "-t", session, "-l", "launch ");
            await TmuxAsync("send-keys", "-t", session, "Enter");
            await WaitForAsync(() => File.ReadAllTextAsync(answers), s => s.Contains("TANGO-4471", StringComparison.Ordinal));

            // Up brings the question back from the history; Enter asks it again.
            await WaitForAsync(() => TmuxAsync("capture-pane", "-p", "-t", session), s => s.TrimEnd().EndsWith("rlm>", StringComparison.Ordinal));
            await TmuxAsync("send-keys", "-t", session, "Up");
            await WaitForAsync(() => TmuxAsync("capture-pane", "-p", "-t", session), s => s.TrimEnd().EndsWith("rlm> What is the launch code?", StringComparison.Ordinal));
            await TmuxAsync("send-keys", "-t", session, "Enter");
            await WaitForAsync(() => File.ReadAllTextAsync(answers), s => s.Split("TANGO-4471").Length == 3); // two answers

            await WaitForAsync(() => TmuxAsync("capture-pane", "-p", "-t", session), s => s.TrimEnd().EndsWith("rlm>", StringComparison.Ordinal));
            await TmuxAsync("send-keys", "-t", session, "C-d");
            string written = await WaitForAsync(() => File.ReadAllTextAsync(answers), s => s.Contains("EXITED=", StringComparison.Ordinal));
            output.WriteLine(written);
            Assert.Contains("EXITED=0", written, StringComparison.Ordinal);
            Assert.Contains("Best-matching lines for \"What is the launch code?\"", written, StringComparison.Ordinal);
            Assert.DoesNotContain("rlm>", written, StringComparison.Ordinal); // the prompt and the editor draw on stderr only
        }
        finally
        {
            await TmuxAsync("kill-session", "-t", session).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static async Task<string> TmuxAsync(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("tmux did not start (.ci/run installs Debian's tmux package)");
        string text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return text;
    }

    private static async Task<string> WaitForAsync(Func<Task<string>> read, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            last = await read().ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : string.Empty, TaskScheduler.Default);
            if (done(last))
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("waited 60 s; last seen:\n" + last);
    }
}
