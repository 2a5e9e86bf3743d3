using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Rlm.Tools.IntegrationTests.OpenAI;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>rlm</c> as a dependable Unix tool (issue 11), each case on the real process: pipes and FIFOs as <c>--file</c>, globs
/// that try to leave <c>--dir</c>, an input larger than one .NET string, unreadable folders, a silent endpoint with
/// <c>--timeout</c>, Ctrl+C racing the end of a pipe, an answer that cannot be written, unknown options, long questions
/// (<c>--question-file</c>), <c>--version</c>, the sizes <c>-v</c> shows and 1-based line numbers in answers.
/// </summary>
public sealed class CliUnixToolTests(LoopbackOpenAIServer server, ITestOutputHelper output) : IClassFixture<LoopbackOpenAIServer>
{
    private const string Haystack = "The orchard has apple, pear and plum trees.\nThe launch code for the blue rocket is TANGO-4471.\nVisitors may not feed the goats after six.\n";
    private const string Question = "What is the launch code for the blue rocket?";
    private const int SigInt = 2;

    [Fact]
    public async Task FileDevStdin_APipe_IsReadLikeAFile()
    {
        var result = await RlmProcess.RunAsync([Question, "--file", "/dev/stdin"], stdin: Haystack);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task FileProcessSubstitution_APipe_IsReadLikeAFile()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/bash"))
        {
            output.WriteLine("SKIPPED: needs bash on Linux for <(cmd).");
            return;
        }

        // bash replaces <(...) with /dev/fd/N, a pipe, then exec-s dotnet rlm.dll with it as the --file argument.
        var result = await RlmProcess.RunAsync(
            [Question, "--file"],
            commandPrefix: ["/bin/bash", "-c", "exec \"$@\" <(printf '%s' \"$RLM_TEST_TEXT\")", "bash"],
            environment: new Dictionary<string, string?> { ["RLM_TEST_TEXT"] = Haystack });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Stdin_RedirectedFromAFile_ReadsTheSameTextAsFile()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/bash"))
        {
            output.WriteLine("SKIPPED: needs bash on Linux.");
            return;
        }

        // stdin is then a regular file, read by seeking (two passes into one string); a multi-byte text and a BOM check the decode.
        using var temp = new TempDirectory();
        string text = temp.WriteText("haystack.txt", "\uFEFF" + Haystack + "\ncafé 日本語 🚀 line\n");
        var fromFile = await RlmProcess.RunAsync([Question, "--file", text, "--json"]);
        var redirected = await RlmProcess.RunAsync([Question, "--stdin", "--json"],
            commandPrefix: ["/bin/bash", "-c", "exec \"$@\" < \"$RLM_TEST_FILE\"", "bash"],
            environment: new Dictionary<string, string?> { ["RLM_TEST_FILE"] = text });

        output.WriteLine(redirected.ToString());
        Assert.True(redirected.ExitCode == 0, redirected.ToString());
        using var a = System.Text.Json.JsonDocument.Parse(fromFile.StdOut);
        using var b = System.Text.Json.JsonDocument.Parse(redirected.StdOut);
        Assert.Equal(a.RootElement.GetProperty("answer").GetString(), b.RootElement.GetProperty("answer").GetString());
        Assert.Equal(a.RootElement.GetProperty("input").GetProperty("chars").GetInt64(), b.RootElement.GetProperty("input").GetProperty("chars").GetInt64());
        Assert.Contains("TANGO-4471", b.RootElement.GetProperty("answer").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fifo_WithAWriter_IsReadToItsEnd()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            output.WriteLine("SKIPPED: named pipes (mkfifo) need a POSIX system.");
            return;
        }

        using var temp = new TempDirectory();
        string fifo = await MakeFifoAsync(temp);

        var result = await RlmProcess.RunAsync(
            [Question, "--file", fifo],
            whileStdinOpen: async _ =>
            {
                // Opening a FIFO for writing waits for its reader: rlm.
                await Task.Run(() => File.WriteAllText(fifo, Haystack)).WaitAsync(TimeSpan.FromSeconds(60));
            });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fifo_NoWriter_WaitsLikeCat_CtrlCEndsTheWait_ExitCode130()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            output.WriteLine("SKIPPED: named pipes (mkfifo) and SIGINT need a POSIX system.");
            return;
        }

        using var temp = new TempDirectory();
        string fifo = await MakeFifoAsync(temp);
        bool stillWaiting = false;

        var result = await RlmProcess.RunAsync(
            [Question, "--file", fifo],
            timeout: TimeSpan.FromSeconds(60),
            whileStdinOpen: async process =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2)); // rlm is blocked opening the FIFO: no writer has opened it
                stillWaiting = !process.HasExited;
                Assert.Equal(0, Kill(process.Id, SigInt));
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            });

        output.WriteLine(result.ToString());
        Assert.True(stillWaiting, "rlm should wait for a writer, as cat does");
        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Empty(result.StdOut);
        Assert.Equal("rlm: canceled.", Assert.Single(result.StdErrLines, l => l.StartsWith("rlm: ", StringComparison.Ordinal) && !l.Contains("offline", StringComparison.Ordinal)));
        RlmProcess.AssertNoStackTrace(result);
    }

    [Theory]
    [InlineData("../outside.txt")]
    [InlineData("**/../../*")]
    [InlineData("docs/../../outside.txt")]
    public async Task Glob_WithDotDot_IsRefused_NothingOutsideDirIsRead(string glob)
    {
        using var temp = new TempDirectory();
        temp.WriteText("outside.txt", "The launch code for the blue rocket is OUTSIDE-1.\n");
        temp.WriteText("inside/docs/a.txt", "Nothing to see.\n");

        var result = await RlmProcess.RunAsync(Question, "--dir", Path.Combine(temp.Path, "inside"), "--glob", glob);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, "may not contain '..'");
        Assert.DoesNotContain("OUTSIDE-1", result.StdOut + result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileOverTheLongestString_RefusedWithTheLimit_ExitCode2_NoOutOfMemory()
    {
        // 1.1e9 bytes (one line of text, then a sparse hole of NUL bytes past the 8 KB binary sniff): more characters than
        // one .NET string holds (1,073,741,791). The file takes almost no disk; rlm refuses it in a counting pass.
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "huge.txt");
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            var line = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("The launch code for the blue rocket is TANGO-4471.\n", 200)));
            file.Write(line);
            file.SetLength(1_100_000_000);
        }

        var result = await RlmProcess.RunAsync(Question, "--file", path);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, "too large for one context");
        Assert.Contains("1,073,741,791 characters", result.StdErr, StringComparison.Ordinal);
        Assert.Contains(path, result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InputUnderTheLimit_ButOverTheMemory_ClearError_ExitCode2_NoOutOfMemoryException()
    {
        // 300 million characters (600 MB as UTF-16) under a 256 MiB GC heap limit: within the one-string limit, beyond memory.
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "big.txt");
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("The launch code for the blue rocket is TANGO-4471.\n", 200))));
            file.SetLength(300_000_000);
        }

        var result = await RlmProcess.RunAsync([Question, "--file", path],
            environment: new Dictionary<string, string?> { ["DOTNET_GCHeapHardLimit"] = "0x10000000" });

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, "not enough memory to hold the input");
    }

    [Fact]
    public async Task Dir_UnreadableSubfolder_IsSkippedAndReported_TheRestIsRead()
    {
        if (!OperatingSystem.IsLinux())
        {
            output.WriteLine("SKIPPED: file modes and setpriv need Linux.");
            return;
        }

        using var temp = new TempDirectory();
        temp.WriteText("docs/guide.md", "# Guide\nThe launch code for the blue rocket is TANGO-4471.\n");
        temp.WriteText("locked/secret.md", "The launch code for the blue rocket is LOCKED-9.\n");
        temp.WriteText("zz/after.md", "Goats eat after six.\n");
        File.SetUnixFileMode(Path.Combine(temp.Path, "locked"), UnixFileMode.None);

        // root reads any folder: run rlm as nobody then (setpriv execs it with the same process id).
        IReadOnlyList<string>? prefix = null;
        if (Environment.UserName == "root" || GetEuid() == 0)
        {
            if (!File.Exists("/usr/bin/setpriv"))
            {
                output.WriteLine("SKIPPED: running as root without setpriv: no folder is unreadable to root.");
                return;
            }

            prefix = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
        }

        try
        {
            var result = await RlmProcess.RunAsync([Question, "--dir", temp.Path, "-v"], commandPrefix: prefix,
                environment: new Dictionary<string, string?> { ["HOME"] = Path.GetTempPath(), ["DOTNET_CLI_HOME"] = Path.GetTempPath() });

            output.WriteLine(result.ToString());
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("docs/guide.md:2", result.StdOut, StringComparison.Ordinal);
            Assert.DoesNotContain("LOCKED-9", result.StdOut, StringComparison.Ordinal);
            Assert.Contains("Skipped: 1 (1 unreadable)", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("locked/ [unreadable] folder cannot be listed: ", result.StdErr, StringComparison.Ordinal);
            Assert.Contains("2 documents", result.StdErr, StringComparison.Ordinal);
            RlmProcess.AssertNoStackTrace(result);
        }
        finally
        {
            File.SetUnixFileMode(Path.Combine(temp.Path, "locked"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task SilentEndpoint_Timeout_EndsWithinTheStatedBound_OneClearLine_ExitCode1()
    {
        // Kestrel accepts the connection and reads the request, then never answers.
        var scenario = server.NewScenario(async (context, _) =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.ShuttingDown);
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        });

        var clock = Stopwatch.StartNew();
        var result = await RlmProcess.RunAsync(
            [Question, "--stdin", "--base-url", scenario.Endpoint.ToString(), "--timeout", "1"],
            stdin: Haystack,
            timeout: TimeSpan.FromSeconds(170));
        clock.Stop();

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s, {scenario.Requests.Count} requests\n{result}");
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Empty(result.StdOut);
        var line = Assert.Single(result.StdErrLines);
        Assert.StartsWith("rlm: the model endpoint failed", line, StringComparison.Ordinal);
        Assert.Contains("after 5 attempts: timed out", line, StringComparison.Ordinal);
        // 1 + the 4 retries, each abandoned after --timeout (a cold client may spend the first second before sending).
        Assert.InRange(scenario.Requests.Count, 1, 5);
        // The bound --help states: 5 x SECONDS + at most 4 x 30 s of back-off (plus the process start-up).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5 * 1 + 120 + 30), $"took {clock.Elapsed}");
        RlmProcess.AssertNoStackTrace(result);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("NaN")]
    [InlineData("ten")]
    public async Task Timeout_NotAPositiveNumber_UsageError(string value)
    {
        var result = await RlmProcess.RunAsync([Question, "--stdin", "--timeout", value], stdin: Haystack);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, "--timeout");
    }

    [Fact]
    public async Task CtrlC_AsThePipeEnds_IsACancel_NotAnEmptyInputError()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            output.WriteLine("SKIPPED: SIGINT needs a POSIX system.");
            return;
        }

        // As in `sleep 30 | rlm q --stdin` and Ctrl+C: the terminal signals both processes, the writer dies first, and rlm
        // sees the end of an empty pipe just before SIGINT. That is a cancel (130), said once.
        var result = await RlmProcess.RunAsync(
            [Question, "--stdin"],
            whileStdinOpen: async process =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2)); // rlm is blocked reading the open, empty stdin
                process.StandardInput.Close();
                Assert.Equal(0, Kill(process.Id, SigInt));
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Empty(result.StdOut);
        Assert.Equal("rlm: canceled.", Assert.Single(result.StdErrLines));
    }

    [Theory]
    [InlineData("exec \"$@\" > /dev/full", "No space left on device")]
    [InlineData("exec \"$@\" >&-", "it is closed or not writable")]
    [InlineData("\"$@\" | true; exit ${PIPESTATUS[0]}", "Broken pipe")] // the reader exited before the answer came
    public async Task AnswerCannotBeWritten_SaysWhatFailed_ExitCode1(string redirect, string reason)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/bash"))
        {
            output.WriteLine("SKIPPED: needs bash and /dev/full (Linux).");
            return;
        }

        var result = await RlmProcess.RunAsync([Question, "--stdin"], stdin: Haystack, commandPrefix: ["/bin/bash", "-c", redirect, "bash"]);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.StdErrLines, l => !l.Contains("offline model", StringComparison.Ordinal));
        Assert.Equal($"rlm: cannot write the answer to standard output: {reason}", line);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Theory]
    [InlineData("--frobnicate")]
    [InlineData("-x")]
    public async Task UnknownOption_BeforeTheQuestion_IsNamed_NotTheQuestion(string option)
    {
        using var temp = new TempDirectory();
        string text = temp.WriteText("text.txt", Haystack);

        var result = await RlmProcess.RunAsync(option, "q", "--file", text);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, $"unrecognized option {option}");
        Assert.DoesNotContain("'q'", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuestionFile_AQuestionOverTheArgumentLimit_IsAnswered()
    {
        // 200 KiB: more than one argument may hold on Linux (MAX_ARG_STRLEN, 128 KiB).
        using var temp = new TempDirectory();
        string text = temp.WriteText("haystack.txt", Haystack);
        var question = new StringBuilder(Question).Append('\n');
        while (question.Length < 200 * 1024)
        {
            question.Append("Please answer from the input only. ");
        }

        string questionPath = temp.WriteText("question.txt", question.ToString());

        var result = await RlmProcess.RunAsync("--question-file", questionPath, "--file", text);

        output.WriteLine(result.ToString()[..Math.Min(result.ToString().Length, 4000)]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        Assert.Contains(Question, result.StdOut, StringComparison.Ordinal); // the offline answer quotes the question's start
    }

    [Fact]
    public async Task QuestionFileDash_ReadsTheQuestionFromStdin()
    {
        using var temp = new TempDirectory();
        string text = temp.WriteText("haystack.txt", Haystack);

        var result = await RlmProcess.RunAsync(["--question-file", "-", "--file", text], stdin: Question + "\n");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        Assert.Contains(Question, result.StdOut, StringComparison.Ordinal);
    }

    public static TheoryData<string> QuestionFileErrors => new() { "dash with --stdin", "both question and file", "missing file", "empty file", "dash without input" };

    [Theory]
    [MemberData(nameof(QuestionFileErrors))]
    public async Task QuestionFile_Mistakes_UsageError(string scenario)
    {
        using var temp = new TempDirectory();
        string text = temp.WriteText("haystack.txt", Haystack);
        string empty = temp.WriteText("empty.txt", "  \n");
        string missing = Path.Combine(temp.Path, "no-such-question.txt");
        (string[] args, string expected) = scenario switch
        {
            "dash with --stdin" => (new[] { "--question-file", "-", "--stdin" }, "both read standard input"),
            "both question and file" => (new[] { Question, "--question-file", empty, "--file", text }, "not both"),
            "missing file" => (new[] { "--question-file", missing, "--file", text }, $"file not found: {missing}"),
            "empty file" => (new[] { "--question-file", empty, "--file", text }, "the question is empty"),
            "dash without input" => (new[] { "--question-file", "-" }, "no input"), // found before stdin is read for the question
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        var result = await RlmProcess.RunAsync(args, stdin: Haystack);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, expected);
    }

    [Fact]
    public async Task Version_PrintsTheInformationalVersionOfTheBuild()
    {
        // The built rlm.dll's AssemblyInformationalVersion (version + source revision), read from its metadata.
        string expected = FileVersionInfo.GetVersionInfo(RlmProcess.RlmDll).ProductVersion!;

        var result = await RlmProcess.RunAsync("--version");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(expected, result.StdOut.Trim());
        Assert.Matches(new Regex(@"^\d+\.\d+\.\d+"), result.StdOut);
        Assert.Empty(result.StdErr);
    }

    [Fact]
    public async Task Help_StatesTheTimeoutBound_QuestionFile_AndWhichLineNumbersAre1Based()
    {
        var result = await RlmProcess.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        string help = Regex.Replace(result.StdOut, @"\s+", " ");
        Assert.Contains("--timeout <SECONDS>", help, StringComparison.Ordinal);
        Assert.Contains("5 x SECONDS", help, StringComparison.Ordinal);
        Assert.Contains("--question-file <PATH>", help, StringComparison.Ordinal);
        Assert.Contains("--version", help, StringComparison.Ordinal);
        Assert.Contains("1-based", help, StringComparison.Ordinal);
        Assert.Contains("0-based", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_HeaderAndTrace_ShowOneSizeForTheContext_DocumentHeadersIncluded()
    {
        using var temp = new TempDirectory();
        temp.WriteText("a.txt", "Nothing about rockets here.\n");
        temp.WriteText("b.txt", Haystack);

        // Run in the directory itself: the documents are named a.txt and b.txt (no directory before them).
        var result = await RlmProcess.RunAsync([Question, "--dir", temp.Path, "-v"], workingDirectory: temp.Path);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        var header = Regex.Match(result.StdErr, @"Context: ([\d,]+) chars, ([\d,]+) lines, 2 documents");
        var trace = Regex.Match(result.StdErr, @"query\(depth=0, ([\d,]+) chars\)");
        Assert.True(header.Success && trace.Success, result.StdErr);
        Assert.Equal(trace.Groups[1].Value, header.Groups[1].Value);

        // The trace says how to read the tools' numbers (0-based, as the model sees them).
        Assert.Contains("line numbers and offsets are 0-based, document:line is 1-based", result.StdErr, StringComparison.Ordinal);

        // The text plus one "==> name <==" line per document.
        int expected = "==> a.txt <==\n".Length + "Nothing about rockets here.\n".Length + "==> b.txt <==\n".Length + Haystack.Length;
        Assert.Equal(expected.ToString("N0", CultureInfo.InvariantCulture), header.Groups[1].Value);
        Assert.Equal("6", header.Groups[2].Value);
    }

    [Fact]
    public async Task Answers_LineNumbersAre1Based_AsGrepN_ForOneContextAndForDocuments()
    {
        using var temp = new TempDirectory();
        string single = temp.WriteText("one.txt", Haystack);
        temp.WriteText("docs/a.txt", "Nothing about rockets here.\n");
        temp.WriteText("docs/b.txt", Haystack);

        var one = await RlmProcess.RunAsync(Question, "--file", single);
        var docs = await RlmProcess.RunAsync([Question, "--dir", "docs"], workingDirectory: temp.Path);

        output.WriteLine(one.ToString());
        output.WriteLine(docs.ToString());
        Assert.True(one.ExitCode == 0 && docs.ExitCode == 0, one + "\n" + docs);

        // The launch code is on the 2nd line of the text (grep -n says 2), in both cases.
        Assert.Contains("- (line 2): The launch code for the blue rocket is TANGO-4471.", one.StdOut, StringComparison.Ordinal);
        Assert.Contains("- docs/b.txt:2: The launch code for the blue rocket is TANGO-4471.", docs.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("(line", docs.StdOut, StringComparison.Ordinal); // one number per hit, not a 0-based one beside it
    }

    private static async Task<string> MakeFifoAsync(TempDirectory temp)
    {
        string fifo = Path.Combine(temp.Path, "input.fifo");
        using var mkfifo = Process.Start("mkfifo", [fifo]);
        await mkfifo.WaitForExitAsync();
        Assert.Equal(0, mkfifo.ExitCode);
        return fifo;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}
