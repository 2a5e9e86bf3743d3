using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Rlm.Tools.Eval.Cli;
using Rlm.Tools.Eval.Model;
using Rlm.Tools.Eval.Running;

namespace Rlm.Tools.Eval.Tests;

/// <summary><c>rlm-eval run</c> writes each task's trajectory next to the results, and the results link to them.</summary>
public class TrajectoryTests
{
    private static async Task<(int Code, string Out, string Err)> Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await EvalCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Each_task_writes_a_readable_trajectory_that_the_results_the_console_and_the_report_link_to()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "tasks.jsonl");
        var results = Path.Combine(dir, "out", "results.jsonl");
        Assert.Equal(0, (await Cli("generate", "--family", "s-niah,logs", "--tokens", "1k", "--count", "2", "--seed", "5", "--out", tasks)).Code);

        var (code, _, err) = await Cli("run", "--tasks", tasks, "--mode", "offline", "--out", results);

        Assert.True(code == 0, err);
        var lines = Jsonl.ReadAll<EvalResult>(results);
        Assert.Equal(4, lines.Count);
        foreach (var r in lines)
        {
            Assert.Equal("results.trajectories/" + r.TaskId + ".jsonl", r.Trajectory);
            string file = Path.Combine(dir, "out", r.Trajectory!);
            using var reader = File.OpenText(file);
            var trajectory = RlmTrajectoryReader.Read(reader);
            Assert.Equal(r.ModelCalls, trajectory.Run.GetProperty("statistics").GetProperty("model_calls").GetInt32());
            Assert.Equal(r.InputTokens, trajectory.Run.GetProperty("usage").GetProperty("input_tokens").GetInt64());
            Assert.False(trajectory.Run.GetProperty("sensitive").GetBoolean());
            Assert.False(trajectory.Run.TryGetProperty("question", out _)); // as rlm --trajectory: no question without --trajectory-sensitive
            Assert.Contains(trajectory.Nodes, n => n.Kind == "tool_call");

            // The console line of the task names the file.
            Assert.Contains(err.Split('\n'), l => l.Contains(" " + r.TaskId + " ", StringComparison.Ordinal) && l.TrimEnd().EndsWith("trajectory " + Path.Combine(dir, "out", r.Trajectory!), StringComparison.Ordinal));
        }

        Assert.Contains("render one with: rlm view <file> -o out.html", err, StringComparison.Ordinal);

        // The report, written to another folder, links each task's trajectory relative to itself.
        var report = Path.Combine(dir, "reports", "report.md");
        Directory.CreateDirectory(Path.GetDirectoryName(report)!);
        Assert.Equal(0, (await Cli("report", results, "--out", report)).Code);
        string markdown = File.ReadAllText(report);
        Assert.Contains("## Trajectories", markdown, StringComparison.Ordinal);
        Assert.Contains("`rlm view <file> -o out.html`", markdown, StringComparison.Ordinal);
        var links = Regex.Matches(markdown, @"\]\(([^)]+\.jsonl)\)").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(lines.Select(r => "../out/" + r.Trajectory).Order(), links.Order());
        Assert.All(links, link => Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(report)!, link)), link));

        // --restart with --trajectory-sensitive: the new trajectories hold the question.
        (code, _, err) = await Cli("run", "--tasks", tasks, "--mode", "offline", "--out", results, "--restart", "--trajectory-sensitive", "--limit", "1");
        Assert.True(code == 0, err);
        var rerun = Assert.Single(Jsonl.ReadAll<EvalResult>(results));
        Assert.Single(Directory.GetFiles(Path.Combine(dir, "out", "results.trajectories"))); // the discarded results' trajectories are gone
        using var sensitive = File.OpenText(Path.Combine(dir, "out", rerun.Trajectory!));
        var run = RlmTrajectoryReader.Read(sensitive).Run;
        Assert.Equal(TaskFile.Read(tasks).Single(t => t.Id == rerun.TaskId).Question, run.GetProperty("question").GetString());
    }

    [Fact]
    public async Task A_root_model_failure_keeps_the_partial_trajectory_and_links_it_from_the_failed_result()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "tasks.jsonl");
        TaskFile.Write(Generation.TaskGenerator.Generate(Families.Logs, 1024, 1, 1), tasks);
        var settings = new RunSettings { TasksPath = tasks, OutPath = Path.Combine(dir, "r.jsonl"), Mode = RunModes.Rlm, Model = "m" };

        var summary = await new Runner(settings, TextWriter.Null, () => new RefusingClient()).RunAsync(CancellationToken.None);

        Assert.Equal(1, summary.Errors);
        var result = Assert.Single(Jsonl.ReadAll<EvalResult>(settings.OutPath));
        Assert.Contains("RlmModelException", result.Error, StringComparison.Ordinal);
        Assert.Equal("r.trajectories/" + result.TaskId + ".jsonl", result.Trajectory);
        using var reader = File.OpenText(Path.Combine(dir, result.Trajectory!));
        var trajectory = RlmTrajectoryReader.Read(reader);
        Assert.Equal("model_failure", trajectory.Run.GetProperty("stop_reason").GetString());
        Assert.Contains(trajectory.Nodes, n => n.Kind == "model_call" && n.IsError);
    }

    [Fact]
    public async Task Direct_mode_writes_no_trajectory()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "tasks.jsonl");
        TaskFile.Write(Generation.TaskGenerator.Generate(Families.Logs, 1024, 1, 1), tasks);
        var settings = new RunSettings { TasksPath = tasks, OutPath = Path.Combine(dir, "d.jsonl"), Mode = RunModes.Direct, Model = "m" };

        await new Runner(settings, TextWriter.Null, () => new TextClient()).RunAsync(CancellationToken.None);

        Assert.Null(Assert.Single(Jsonl.ReadAll<EvalResult>(settings.OutPath)).Trajectory);
        Assert.False(Directory.Exists(settings.TrajectoriesPath));
    }

    [Theory]
    [InlineData("s-niah-1k-000", "s-niah-1k-000")]
    [InlineData("a/b", "a_b-")]
    [InlineData("../up", "_up-")]
    public void Task_ids_become_safe_file_names(string id, string expectedStart)
    {
        string name = Runner.FileName(id);

        Assert.StartsWith(expectedStart, name, StringComparison.Ordinal);
        Assert.Matches("^[A-Za-z0-9_-][A-Za-z0-9._-]*$", name);
        Assert.NotEqual(Runner.FileName("a_b"), Runner.FileName("a/b"));
    }

    /// <summary>An endpoint that refuses every request (HTTP 401: not retried).</summary>
    private sealed class RefusingClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new HttpRequestException("invalid key", null, HttpStatusCode.Unauthorized);

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class TextClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "42")));

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
