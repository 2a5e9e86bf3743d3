using System.Text.Json;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>rlm chat</c> as a real process: questions piped on stdin over a corpus loaded once, answered as one conversation
/// (the offline model, or a scripted OpenAI-compatible server on loopback), commands, a failed question that does not end
/// the chat, Ctrl+C (SIGINT) during a question and at the prompt, and usage errors.
/// </summary>
public sealed class CliChatTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>, IDisposable
{
    private const string FakeKey = "sk-test-CHAT-1a2b3c4d5e6f-DO-NOT-PRINT";

    private const string Notes = """
        Mission log, day 1.
        The launch code is TANGO-4471.
        The mission was signed by Admiral Vega.
        The budget is 12 million credits.
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task OfflineModel_PipedQuestions_EachAnsweredOnStdout_CommandsAndStatusOnStderr_EndOfInputExits0()
    {
        string notes = _temp.WriteText("notes.txt", Notes);

        var result = await RlmProcess.RunAsync(
            ["chat", "--file", notes],
            stdin: "What is the launch code?\n\n   \n/usage\n/bogus\nWho signed the mission?\n/usage\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        RlmProcess.AssertNoStackTrace(result);

        // Two answers, in order; no prompt (stdin is not a terminal).
        Assert.Equal(2, CountOf(result.StdOut, OfflineChatClient.AnswerPrefix));
        int code = result.StdOut.IndexOf("TANGO-4471", StringComparison.Ordinal);
        int signer = result.StdOut.IndexOf("Admiral Vega", StringComparison.Ordinal);
        Assert.True(code >= 0 && signer > code, result.ToString());
        Assert.DoesNotContain("rlm>", result.StdOut + result.StdErr, StringComparison.Ordinal);

        // Stderr: the offline note, one status line per question, /usage after one and after two turns, the unknown command.
        var lines = result.StdErrLines;
        Assert.All(lines, l => Assert.StartsWith("rlm: ", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("offline model", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("rlm: turn 1: ", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("rlm: turn 2: ", StringComparison.Ordinal));
        var usage = lines.Where(l => l.StartsWith("rlm: usage: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, usage.Count);
        Assert.StartsWith("rlm: usage: 1 turn, ", usage[0], StringComparison.Ordinal);
        Assert.StartsWith("rlm: usage: 2 turns, ", usage[1], StringComparison.Ordinal);
        Assert.True(TokenCount(usage[1]) > TokenCount(usage[0]), string.Join('\n', usage));
        Assert.Equal("rlm: unknown command /bogus (commands: /help, /usage, /reset, /exit).", Assert.Single(lines, l => l.Contains("/bogus", StringComparison.Ordinal)));

        // Status and usage lines come in the order the input asked for them.
        int firstUsage = Array.IndexOf(lines, usage[0]);
        Assert.True(Array.FindIndex(lines, l => l.StartsWith("rlm: turn 1: ", StringComparison.Ordinal)) < firstUsage);
        Assert.True(Array.FindIndex(lines, l => l.StartsWith("rlm: turn 2: ", StringComparison.Ordinal)) > firstUsage);
    }

    [Fact]
    public async Task NobodyReadsTheAnswers_TheChatEnds_SayingWhy_ExitCode1()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/bash"))
        {
            output.WriteLine("SKIPPED: needs bash (Linux).");
            return;
        }

        string notes = _temp.WriteText("notes.txt", Notes);

        // stdout is a pipe whose reader (true) has exited: the first answer fails with EPIPE, and no further question is asked.
        var result = await RlmProcess.RunAsync(["chat", "--file", notes], stdin: "What is the launch code?\nWho signed the mission?\nWhere is the base?\n",
            commandPrefix: ["/bin/bash", "-c", "\"$@\" | true; exit ${PIPESTATUS[0]}", "bash"]);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("rlm: cannot write the answer to standard output: Broken pipe; the chat ends", result.StdErrLines);
        Assert.DoesNotContain(result.StdErrLines, l => l.StartsWith("rlm: turn", StringComparison.Ordinal));
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task ExitCommand_EndsTheChat_LaterQuestionsAreNotAsked()
    {
        string notes = _temp.WriteText("notes.txt", Notes);

        var result = await RlmProcess.RunAsync(["chat", "--file", notes], stdin: "What is the launch code?\n/EXIT\nWho signed the mission?\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(1, CountOf(result.StdOut, OfflineChatClient.AnswerPrefix));
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("Admiral Vega", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoint_VariableSetInTurn1_ReadInTurn3_Turn3SeesTurn1_FailedTurn2IsOneRedactedLineAndIsSkipped()
    {
        string notes = _temp.WriteText("notes.txt", Notes);
        var scenario = server.NewScenario(async (context, request) =>
        {
            string body = request.Body;
            if (body.Contains("What code did you store?", StringComparison.Ordinal))
            {
                await LoopbackOpenAIServer.Json(ToolCall("final_var", new { name = "code" }))(context, request);
            }
            else if (body.Contains("Fail this one", StringComparison.Ordinal))
            {
                string echo = $$$"""{"error":{"message":"Bad request for key {{{FakeKey}}}","type":"invalid_request_error"}}""";
                await LoopbackOpenAIServer.Json(echo, status: 400)(context, request);
            }
            else
            {
                bool sawToolResult = request.Json.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool");
                await LoopbackOpenAIServer.Json(sawToolResult
                    ? ToolCall("final", new { answer = "I stored the code." })
                    : ToolCall("set_variable", new { name = "code", value = "TANGO-4471" }))(context, request);
            }
        });

        var result = await RlmProcess.RunAsync(
            ["chat", "--file", notes, "--base-url", scenario.Endpoint.ToString()],
            stdin: "Remember the launch code.\nFail this one.\nWhat code did you store?\n/usage\n",
            environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = FakeKey });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        RlmProcess.AssertNoStackTrace(result);
        Assert.DoesNotContain(FakeKey, result.StdOut + result.StdErr, StringComparison.Ordinal);

        // Turn 1's answer, then turn 3's: the value of the variable turn 1 set (final_var), in the same process.
        Assert.Equal(["I stored the code.", "TANGO-4471"], result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // Turn 2 failed: one line, redacted, and the chat went on.
        var failure = Assert.Single(result.StdErrLines, l => l.Contains("endpoint failed", StringComparison.Ordinal));
        Assert.Contains("HTTP 400", failure, StringComparison.Ordinal);
        Assert.Contains("conversation is kept", failure, StringComparison.Ordinal);

        // Turn 3's request shows turn 1's question and answer, not the failed question.
        var turn3 = Assert.Single(scenario.Requests, r => r.Body.Contains("What code did you store?", StringComparison.Ordinal));
        Assert.Contains("Remember the launch code.", turn3.Body, StringComparison.Ordinal);
        Assert.Contains("I stored the code.", turn3.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Fail this one", turn3.Body, StringComparison.Ordinal);
        Assert.All(scenario.Requests, r => Assert.Equal($"Bearer {FakeKey}", r.Authorization));

        // /usage counts the two answered turns: three model calls of 30 + 12 tokens each (two for turn 1, one for turn 3).
        Assert.Contains("rlm: usage: 2 turns, 126 tokens (90 in / 36 out)", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetCommand_NextQuestionDoesNotSeeEarlierTurns_UsageCountsTheWholeSession()
    {
        string notes = _temp.WriteText("notes.txt", Notes);
        var scenario = server.NewScenario(async (context, request) =>
        {
            string answer = request.Body.Contains("Second question", StringComparison.Ordinal) ? "Answer two." : "Answer one.";
            await LoopbackOpenAIServer.Json(ToolCall("final", new { answer }))(context, request);
        });

        var result = await RlmProcess.RunAsync(
            ["chat", "--file", notes, "--base-url", scenario.Endpoint.ToString()],
            stdin: "First question?\n/reset\nSecond question?\n/usage\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["Answer one.", "Answer two."], result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var second = Assert.Single(scenario.Requests, r => r.Body.Contains("Second question", StringComparison.Ordinal));
        Assert.DoesNotContain("First question", second.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Answer one.", second.Body, StringComparison.Ordinal);
        Assert.Contains(result.StdErrLines, l => l.StartsWith("rlm: new conversation", StringComparison.Ordinal));
        var usage = Assert.Single(result.StdErrLines, l => l.StartsWith("rlm: usage: ", StringComparison.Ordinal));
        Assert.Contains("this conversation 1 turn, 42 tokens", usage, StringComparison.Ordinal);
        Assert.Contains("since start (1 reset) 2 turns, 84 tokens", usage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CtrlC_WhileAQuestionRuns_CancelsThatQuestionOnly_TheConversationGoesOn()
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("SKIPPED: sending SIGINT to a child process needs a POSIX system.");
            return;
        }

        string notes = _temp.WriteText("notes.txt", Notes);
        var hanging = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scenario = server.NewScenario(async (context, request) =>
        {
            string body = request.Body;
            if (body.Contains("Hang on this one", StringComparison.Ordinal) && !body.Contains("Last question", StringComparison.Ordinal))
            {
                hanging.TrySetResult();
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.ShuttingDown);
                try
                {
                    await Task.Delay(Timeout.Infinite, linked.Token);
                }
                catch (OperationCanceledException)
                {
                    aborted.TrySetResult(); // the client gave the request up
                }

                return;
            }

            string answer = body.Contains("Last question", StringComparison.Ordinal) ? "Answer two." : "Answer one.";
            await LoopbackOpenAIServer.Json(ToolCall("final", new { answer }))(context, request);
        });

        using var chat = ChatProcess.Start(["chat", "--file", notes, "--base-url", scenario.Endpoint.ToString()]);
        await chat.WriteLineAsync("Warm-up question?");
        await chat.WaitForStdOutAsync(l => l == "Answer one.");
        await chat.WriteLineAsync("Hang on this one?");
        await hanging.Task.WaitAsync(TimeSpan.FromSeconds(90));
        await chat.InterruptAsync();
        await chat.WaitForStdErrAsync(l => l.Contains("question canceled", StringComparison.Ordinal));
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await chat.WriteLineAsync("Last question?");
        await chat.WaitForStdOutAsync(l => l == "Answer two.");
        chat.CloseInput();
        int exitCode = await chat.WaitForExitAsync();

        output.WriteLine(chat.ToString());
        Assert.True(exitCode == 0, $"exit code {exitCode}\n{chat}");
        Assert.Equal(["Answer one.", "", "Answer two."], chat.StdOutLines); // piped answers are separated by an empty line
        Assert.Equal("rlm: question canceled; the conversation is kept (Ctrl+C at the prompt ends the chat).", Assert.Single(chat.StdErrLines, l => l.Contains("canceled", StringComparison.Ordinal)));

        // The conversation survived the cancellation: the last question sees the warm-up turn, not the canceled one.
        var last = Assert.Single(scenario.Requests, r => r.Body.Contains("Last question", StringComparison.Ordinal));
        Assert.Contains("Warm-up question?", last.Body, StringComparison.Ordinal);
        Assert.Contains("Answer one.", last.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Hang on this one", last.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CtrlC_AtThePrompt_EndsTheChat_ExitCode130()
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("SKIPPED: sending SIGINT to a child process needs a POSIX system.");
            return;
        }

        string notes = _temp.WriteText("notes.txt", Notes);
        using var chat = ChatProcess.Start(["chat", "--file", notes]);
        await chat.WriteLineAsync("What is the launch code?");
        await chat.WaitForStdErrAsync(l => l.StartsWith("rlm: turn 1: ", StringComparison.Ordinal)); // written once the question is over
        await chat.InterruptAsync();
        int exitCode = await chat.WaitForExitAsync();

        output.WriteLine(chat.ToString());
        Assert.True(exitCode == 130, $"exit code {exitCode}\n{chat}");
        Assert.Contains(chat.StdOutLines, l => l.Contains("TANGO-4471", StringComparison.Ordinal));
        Assert.Equal("rlm: canceled.", chat.StdErrLines[^1]);
        Assert.DoesNotContain(chat.StdErrLines, l => l.Contains("question canceled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CtrlC_WhileTheInputLoads_EndsAtOnce_ExitCode130()
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("SKIPPED: FIFOs and SIGINT to a child process need a POSIX system.");
            return;
        }

        // A FIFO as --file: opening it for reading blocks until a writer opens it, and reading blocks until data comes,
        // so once the test's writer is open, rlm chat is inside the input loading, its Ctrl+C handler installed.
        string fifo = Path.Combine(_temp.Path, "slow-input");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        using var chat = ChatProcess.Start(["chat", "--file", fifo]);
        await using var writer = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write)).WaitAsync(TimeSpan.FromSeconds(90));
        await chat.InterruptAsync();
        int exitCode = await chat.WaitForExitAsync();

        output.WriteLine(chat.ToString());
        Assert.True(exitCode == 130, $"exit code {exitCode}\n{chat}");
        Assert.Empty(chat.StdOutLines);
        Assert.Equal("rlm: canceled.", chat.StdErrLines[^1]);
    }

    [Fact]
    public async Task MaxTokens_BindsEachQuestionSeparately_StopNoteNamesTheBudget_TheChatGoesOn()
    {
        string notes = _temp.WriteText("notes.txt", Notes);
        const string Questions = "What is the launch code?\nWho signed the mission?\n";

        // A budget one question fits in (the offline model reports usage: about 4,000-4,500 tokens a question here), but
        // not two: both are answered, so each question has a budget of its own.
        var roomy = await RlmProcess.RunAsync(["chat", "--file", notes, "--max-tokens", "6000"], stdin: Questions);

        output.WriteLine(roomy.ToString());
        Assert.True(roomy.ExitCode == 0, roomy.ToString());
        Assert.Contains("TANGO-4471", roomy.StdOut, StringComparison.Ordinal);
        Assert.Contains("Admiral Vega", roomy.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("stopped:", roomy.StdErr, StringComparison.Ordinal);
        var turns = roomy.StdErrLines.Where(l => l.StartsWith("rlm: turn ", StringComparison.Ordinal)).Select(TokenCount).ToList();
        Assert.Equal(2, turns.Count);
        Assert.All(turns, t => Assert.InRange(t, 1, 6000));
        Assert.True(turns.Sum() > 6000, $"the two questions together must exceed the budget for this test to show anything: {turns.Sum()}");

        // A budget the first reply alone exceeds: each question stops with a note naming the budget, and the chat goes on.
        var tight = await RlmProcess.RunAsync(["chat", "--file", notes, "--max-tokens", "50"], stdin: Questions);

        output.WriteLine(tight.ToString());
        Assert.True(tight.ExitCode == 0, tight.ToString());
        RlmProcess.AssertNoStackTrace(tight);
        var stops = tight.StdErrLines.Where(l => l.StartsWith("rlm: stopped: token budget of 50 tokens spent (", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, stops.Count);
        Assert.Single(tight.StdErrLines, l => l.StartsWith("rlm: turn 2: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StdinOption_IsAUsageError_QuestionsComeFromStdin()
    {
        string notes = _temp.WriteText("notes.txt", Notes);

        var result = await RlmProcess.RunAsync(["chat", "--stdin"], stdin: "What is the launch code?\n");
        RlmProcess.AssertUsageError(result, "reads the questions from standard input");
        Assert.Contains("--stdin", result.StdErr, StringComparison.Ordinal);

        var both = await RlmProcess.RunAsync(["chat", "--file", notes, "--stdin"], stdin: "What is the launch code?\n");
        RlmProcess.AssertUsageError(both, "--stdin");
    }

    [Theory]
    [InlineData(new[] { "chat" }, "no input: give --file PATH (repeatable) or --dir PATH (see rlm chat --help)")]
    [InlineData(new[] { "chat", "--file", "/no/such/file.txt" }, "file not found")]
    [InlineData(new[] { "chat", "--dir", ".", "--max-depth", "9" }, "--max-depth must be between 1 and 8")]
    [InlineData(new[] { "chat", "--dir", ".", "--timeout", "0" }, "--timeout must be a number of seconds from 0.01 to 86400 (got 0)")]
    [InlineData(new[] { "chat", "--dir", ".", "--max-tokens", "0" }, "--max-tokens must be a positive whole number of tokens (got 0)")]
    [InlineData(new[] { "chat", "--dir", ".", "--max-time", "soon" }, "--max-time must be a positive number of seconds from 0.001 to 31536000 (got 'soon') (see rlm chat --help)")]
    [InlineData(new[] { "chat", "--dir", ".", "--max-cost", "0.5" }, "--max-cost cannot bound the offline model")]
    [InlineData(new[] { "chat", "--json" }, "(see rlm chat --help)")]
    [InlineData(new[] { "chat", "What is the launch code?", "And the budget?", "--dir", "." }, "rlm chat takes at most one question argument ('And the budget?' is one too many)")]
    public async Task BadArguments_OneLine_ExitCode2(string[] args, string expected)
    {
        var result = await RlmProcess.RunAsync(args);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, expected);
    }

    [Fact]
    public async Task Help_IsTheChatsOwn_NoRootQuestionArgument_SharedOptionsAndExitCodes()
    {
        var result = await RlmProcess.RunAsync("chat", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("rlm chat [<question>] [options]", result.StdOut, StringComparison.Ordinal); // its own optional first question
        Assert.Contains("is asked first", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(result.StdOut.Split('\n'), l => l.TrimStart().StartsWith("--stdin", StringComparison.Ordinal)); // hidden: rejected, not offered
        foreach (var text in new[] { "--file", "--dir", "--glob", "--base-url", "--offline", "--max-iterations", "--verbose", "/usage", "/reset", "/exit", "130", "Ctrl+C" })
        {
            Assert.Contains(text, result.StdOut, StringComparison.Ordinal);
        }

        var root = await RlmProcess.RunAsync("--help");
        Assert.Contains("rlm chat", root.StdOut, StringComparison.Ordinal);
        Assert.Contains("<question>", root.StdOut, StringComparison.Ordinal); // the root command keeps its argument

        // The other subcommands' usage lines lose the root's <question> too; view keeps its own argument.
        var view = await RlmProcess.RunAsync("view", "-h");
        Assert.Contains("rlm view <trajectory> [options]", view.StdOut, StringComparison.Ordinal);
        Assert.Contains("The trajectory file", view.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("<question>", view.StdOut, StringComparison.Ordinal);
        var mcp = await RlmProcess.RunAsync("mcp", "--help");
        Assert.Contains("rlm mcp [options]", mcp.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("<question>", mcp.StdOut, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string value)
    {
        int count = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>The total token count of a usage line ("rlm: usage: 2 turns, 8,443 tokens (...)").</summary>
    private static long TokenCount(string usageLine)
    {
        var match = System.Text.RegularExpressions.Regex.Match(usageLine, @"([\d,]+) tokens");
        Assert.True(match.Success, usageLine);
        return long.Parse(match.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A chat completion whose message is one call of <paramref name="tool"/>; usage 30 in / 12 out.</summary>
    private static string ToolCall(string tool, object arguments)
    {
        string json = JsonSerializer.Serialize(JsonSerializer.Serialize(arguments));
        return "{\"id\":\"chatcmpl-chat\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"server-model\"," +
               "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" +
               "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"" + tool + "\",\"arguments\":" + json + "}}]}," +
               "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }
}
