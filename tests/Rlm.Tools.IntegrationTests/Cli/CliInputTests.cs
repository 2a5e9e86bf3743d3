using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>Input sources, the JSON report, the parallel trace grouping and every usage/input error of <c>rlm</c>.</summary>
public sealed class CliInputTests(ITestOutputHelper output)
{
    private const string Haystack = """
        The orchard has apple, pear and plum trees.
        The launch code for the blue rocket is TANGO-4471.
        Visitors may not feed the goats after six.
        """;

    [Fact]
    public async Task Stdin_ReadsAllOfStandardInput_AndAnswersFromIt()
    {
        var result = await RlmProcess.RunAsync(["What is the launch code for the blue rocket?", "--stdin"], stdin: Haystack);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("goats", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_PrintsOneObjectWithAnswerStopReasonUsageStatisticsAndTrajectory()
    {
        var result = await RlmProcess.RunAsync(["What is the launch code for the blue rocket?", "--stdin", "--json"], stdin: Haystack);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut); // throws on anything after the object
        var root = json.RootElement;
        Assert.Contains("TANGO-4471", root.GetProperty("answer").GetString(), StringComparison.Ordinal);
        Assert.Equal("rlm-result", root.GetProperty("format").GetString());
        Assert.Equal(2, root.GetProperty("version").GetInt32());
        Assert.Equal("final", root.GetProperty("stop_reason").GetString());
        Assert.True(root.GetProperty("is_final").GetBoolean());

        var usage = root.GetProperty("usage");
        long input = usage.GetProperty("input_tokens").GetInt64();
        long outputTokens = usage.GetProperty("output_tokens").GetInt64();
        Assert.True(input > 0 && outputTokens > 0);
        Assert.Equal(input + outputTokens, usage.GetProperty("total_tokens").GetInt64());
        var byModel = root.GetProperty("usage_by_model").GetProperty(OfflineChatClient.ModelId);
        Assert.Equal(input, byModel.GetProperty("input_tokens").GetInt64());

        var stats = root.GetProperty("statistics");
        Assert.Equal(1, stats.GetProperty("tool_calls").GetProperty("final").GetInt32());
        Assert.True(stats.GetProperty("model_calls").GetInt32() >= stats.GetProperty("iterations").GetInt32());
        Assert.True(stats.GetProperty("iterations").GetInt32() >= 1);
        Assert.True(stats.GetProperty("sub_calls").GetInt32() >= 0);
        Assert.True(stats.GetProperty("max_depth_reached").GetInt32() <= 1);
        Assert.True(stats.GetProperty("wall_time_ms").GetDouble() > 0);

        var trajectory = root.GetProperty("trajectory");
        Assert.Equal("session", trajectory.GetProperty("kind").GetString());
        Assert.Equal(0, trajectory.GetProperty("depth").GetInt32());
        var modelCalls = trajectory.GetProperty("children").EnumerateArray().ToList();
        Assert.Equal(stats.GetProperty("root_iterations").GetInt32(), modelCalls.Count(c => c.GetProperty("kind").GetString() == "model_call"));
        var toolCalls = modelCalls.SelectMany(c => c.GetProperty("children").EnumerateArray()).ToList();
        Assert.Contains(toolCalls, t => t.GetProperty("kind").GetString() == "tool_call" && t.GetProperty("label").GetString()!.StartsWith("final(", StringComparison.Ordinal));

        Assert.Equal(OfflineChatClient.ModelId, root.GetProperty("models").GetProperty("root").GetString());
        Assert.Equal(3, root.GetProperty("input").GetProperty("lines").GetInt32());
    }

    [Fact]
    public async Task File_Several_AreDocumentsNamedByTheirPathsAsGiven()
    {
        using var temp = new TempDirectory();
        temp.WriteText("notes/a.txt", "Nothing about rockets here.\nJust notes.\n");
        temp.WriteText("notes/b.txt", "Shopping list: eggs, milk.\nThe launch code for the blue rocket is TANGO-4471.\n");

        var result = await RlmProcess.RunAsync(["What is the launch code for the blue rocket?", "--file", "notes/a.txt", "--file", "notes/b.txt"], workingDirectory: temp.Path);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("notes/b.txt:2", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("question first")]
    [InlineData("question after --file")]
    [InlineData("question after two --file")]
    public async Task File_QuestionBeforeOrAfterFile_IsTheQuestion(string order)
    {
        using var temp = new TempDirectory();
        temp.WriteText("notes.txt", "Shopping list: eggs, milk.\nThe launch code for the blue rocket is TANGO-4471.\n");
        temp.WriteText("other.txt", "Nothing about rockets here.\n");
        const string Question = "What is the launch code for the blue rocket?";
        string[] args = order switch
        {
            "question first" => [Question, "--file", "notes.txt"],
            "question after --file" => ["--file", "notes.txt", Question],
            _ => ["--file", "other.txt", "--file", "notes.txt", Question],
        };

        var result = await RlmProcess.RunAsync(args, workingDirectory: temp.Path);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("TANGO-4471", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("question is missing", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_TwoPathsAfterOneFile_UsageErrorSaysRepeatFile()
    {
        using var temp = new TempDirectory();
        temp.WriteText("a.txt", "alpha\n");
        temp.WriteText("b.txt", "beta\n");

        var result = await RlmProcess.RunAsync(["What is alpha?", "--file", "a.txt", "b.txt"], workingDirectory: temp.Path);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, "--file takes one path; repeat it for several files");
    }

    [Fact]
    public async Task File_TwoPathsBeforeTheQuestion_UsageErrorSaysRepeatFile()
    {
        using var temp = new TempDirectory();
        temp.WriteText("a.txt", "alpha\n");
        temp.WriteText("b.txt", "beta\n");

        // The second path stands where the question goes; the question is left over.
        var result = await RlmProcess.RunAsync(["--file", "a.txt", "b.txt", "What is alpha?"], workingDirectory: temp.Path);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, "b.txt: --file takes one path; repeat it for several files");
    }

    [Fact]
    public async Task Dir_Glob_SkipsBinaryFiles_GitIgnoredBinObj_AndGit()
    {
        using var temp = new TempDirectory();
        temp.WriteText(".gitignore", "bin/\nobj/\n"); // bin and obj are not special: a .gitignore leaves them out
        temp.WriteText("docs/guide.md", "# Guide\nThe zeppelin password is OSPREY-93.\n");
        temp.WriteText("docs/other.txt", "The zeppelin password is WRONG-TXT.\n");
        temp.WriteText("obj/cache.md", "The zeppelin password is WRONG-OBJ.\n");
        temp.WriteText("src/bin/out.md", "The zeppelin password is WRONG-BIN.\n");
        temp.WriteText(".git/notes.md", "The zeppelin password is WRONG-GIT.\n");
        temp.WriteBytes("docs/image.md", [.. Encoding.UTF8.GetBytes("The zeppelin password is WRONG-BINARY.\n"), 0, 1, 2, 3]);

        var result = await RlmProcess.RunAsync("What is the zeppelin password?", "--dir", temp.Path, "--glob", "*.md", "-v");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("docs/guide.md:2", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("OSPREY-93", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("WRONG", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("1 document", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("docs/image.md [binary]", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("obj/ [ignored] ignored by .gitignore: obj/", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_ParallelSubCallsOfOneReply_AreGroupedUnderAParallelNode()
    {
        // Twelve files of ~20 KB, one needle line each: the hits fall in many chunks, so the offline model fans out
        // several sub_llm calls in one reply, which the engine runs in parallel.
        using var temp = new TempDirectory();
        for (int f = 0; f < 12; f++)
        {
            var text = new StringBuilder();
            for (int i = 0; i < 400; i++)
            {
                text.Append($"file {f} filler line {i}: lorem ipsum dolor sit amet\n");
                if (i == 200)
                {
                    text.Append($"the quokka beacon of file {f} blinks twice\n");
                }
            }

            temp.WriteText($"part{f:D2}.txt", text.ToString());
        }

        var result = await RlmProcess.RunAsync("Where does the quokka beacon blink?", "--dir", temp.Path, "-v", "--json");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        int subLlm = json.RootElement.GetProperty("statistics").GetProperty("tool_calls").GetProperty("sub_llm").GetInt32();
        Assert.True(subLlm >= 2, $"expected parallel sub_llm calls, got {subLlm}");
        // Times print with thousands separators ("1,167 ms") once a group passes a second, as it may on a loaded machine.
        var group = Regex.Match(result.StdErr, @"── \[parallel x(\d+)\] sub_llm ([\d,]+) ms wall, ([\d,]+) ms summed");
        Assert.True(group.Success, result.StdErr);
        Assert.Equal(subLlm, int.Parse(group.Groups[1].Value));
        Assert.True(Ms(group.Groups[2].Value) <= Ms(group.Groups[3].Value) + 1);

        // Each grouped call sits one level below the group node, with its leaf below it.
        var groupLine = result.StdErr.Split('\n').First(l => l.Contains("[parallel x", StringComparison.Ordinal));
        int groupColumn = groupLine.IndexOf("[parallel", StringComparison.Ordinal);
        var callLines = result.StdErr.Split('\n').Where(l => Regex.IsMatch(l, @"── sub_llm\(")).ToList();
        Assert.Equal(subLlm, callLines.Count);
        Assert.All(callLines, l => Assert.Equal(groupColumn + 4, l.IndexOf("sub_llm(", StringComparison.Ordinal)));
        Assert.Contains("quokka beacon", json.RootElement.GetProperty("answer").GetString(), StringComparison.Ordinal);

        static int Ms(string value) => int.Parse(value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task CtrlC_WhileWaitingForInput_CancelsWithOneLineAndExitCode130()
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("SKIPPED: sending SIGINT to a child process needs a POSIX system.");
            return;
        }

        var result = await RlmProcess.RunAsync(
            ["What is the launch code?", "--stdin"],
            stdin: Haystack,
            whileStdinOpen: async process =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2)); // the command is blocked reading the open stdin
                using var kill = System.Diagnostics.Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
                try
                {
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (TimeoutException)
                {
                    // Not canceled: closing stdin lets it finish, and the exit-code assertion below reports it.
                }
            });

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Empty(result.StdOut);
        Assert.Equal("rlm: canceled.", Assert.Single(result.StdErrLines));
    }

    [Fact]
    public async Task Help_DescribesEveryOption_TheOfflineDefaultAndTheApiKeyVariable()
    {
        var result = await RlmProcess.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var option in new[] { "--file", "--dir", "--glob", "--stdin", "--model", "--worker-model", "--base-url", "--offline", "--max-iterations", "--max-depth", "--max-concurrency", "--verbose", "-v", "--json" })
        {
            Assert.Contains(option, result.StdOut, StringComparison.Ordinal);
        }

        Assert.Contains("OPENAI_API_KEY", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("OPENAI_BASE_URL", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("offline model", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("gpt-4.1-mini", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Exit codes", result.StdOut, StringComparison.Ordinal);
    }

    public static TheoryData<string> UsageErrors => new()
    {
        "missing file", "binary file", "empty file", "directory as file", "empty stdin", "no input source", "two input sources",
        "max-depth 0", "max-depth 9", "max-iterations 0", "max-concurrency 0", "non-numeric value", "non-numeric iterations",
        "non-numeric cost", "unknown option",
        "unknown option after --file", "missing question", "empty question", "glob without dir", "missing directory",
        "nothing matches the glob", "bad base url",
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public async Task UsageOrInputError_ExitCode2_OneLineOnStderr_NoStackTrace(string scenario)
    {
        using var temp = new TempDirectory();
        string text = temp.WriteText("text.txt", "some text\n");
        string binary = temp.WriteBytes("data.bin", [0x7F, 0x45, 0x4C, 0x46, 0, 0, 0, 1, 2, 3]);
        string empty = temp.WriteText("empty.txt", string.Empty);
        string missing = Path.Combine(temp.Path, "no-such-file.txt");

        (string[] args, string? stdin, string expected) = scenario switch
        {
            "missing file" => Case(["q?", "--file", missing], null, $"file not found: {missing}"),
            "binary file" => Case(["q?", "--file", binary], null, $"binary content): {binary}"),
            "empty file" => Case(["q?", "--file", empty], null, "empty"),
            "directory as file" => Case(["q?", "--file", temp.Path], null, "is a directory"),
            "empty stdin" => Case(["q?", "--stdin"], "  \n", "empty"),
            "no input source" => Case(["q?"], null, "no input"),
            "two input sources" => Case(["q?", "--file", text, "--dir", temp.Path], null, "exactly one input source"),
            "max-depth 0" => Case(["q?", "--file", text, "--max-depth", "0"], null, "--max-depth"),
            "max-depth 9" => Case(["q?", "--file", text, "--max-depth", "9"], null, "--max-depth"),
            "max-iterations 0" => Case(["q?", "--file", text, "--max-iterations", "0"], null, "--max-iterations"),
            "max-concurrency 0" => Case(["q?", "--file", text, "--max-concurrency", "0"], null, "--max-concurrency"),
            "non-numeric value" => Case(["q?", "--file", text, "--max-depth", "two"], null, "--max-depth: 'two' is not a whole number"),
            "non-numeric iterations" => Case(["q?", "--file", text, "--max-iterations", "abc"], null, "--max-iterations: 'abc' is not a whole number"),
            "non-numeric cost" => Case(["q?", "--file", text, "--max-cost", "1.2.3"], null, "--max-cost must be a positive number of US dollars"),
            "unknown option" => Case(["q?", "--frobnicate", "--file", text], null, "--frobnicate"),
            "unknown option after --file" => Case(["q?", "--file", text, "--frobnicate"], null, "--frobnicate"),
            "missing question" => Case(["--file", text], null, "question"),
            "empty question" => Case(["  ", "--file", text], null, "question is empty"),
            "glob without dir" => Case(["q?", "--file", text, "--glob", "*.md"], null, "--glob"),
            "missing directory" => Case(["q?", "--dir", missing], null, "directory not found"),
            "nothing matches the glob" => Case(["q?", "--dir", temp.Path, "--glob", "*.nothing"], null, "*.nothing"),
            "bad base url" => Case(["q?", "--file", text, "--base-url", "not a url"], null, "--base-url"),
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        var result = await RlmProcess.RunAsync(args, stdin);

        output.WriteLine(result.ToString());
        RlmProcess.AssertUsageError(result, expected);
        Assert.DoesNotContain("System.", result.StdErr, StringComparison.Ordinal); // no .NET type names for a user's typo

        static (string[] Args, string? Stdin, string Expected) Case(string[] args, string? stdin, string expected) => (args, stdin, expected);
    }
}
