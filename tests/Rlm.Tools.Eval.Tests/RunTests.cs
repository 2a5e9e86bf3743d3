using Microsoft.Extensions.AI;
using Rlm.Tools.Eval.Cli;
using Rlm.Tools.Eval.Model;
using Rlm.Tools.Eval.Running;

namespace Rlm.Tools.Eval.Tests;

public class RunTests
{
    private static async Task<(int Code, string Out, string Err)> Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await EvalCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Offline_mode_runs_every_family_end_to_end_through_the_engine_and_resumes()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "tasks.jsonl");
        var results = Path.Combine(dir, "results.jsonl");
        Assert.Equal(0, (await Cli("generate", "--family", "all", "--tokens", "1k", "--count", "2", "--seed", "3", "--out", tasks)).Code);

        var (code, _, err) = await Cli("run", "--tasks", tasks, "--mode", "offline", "--out", results, "--max-concurrency", "3");
        Assert.True(code == 0, err);
        var lines = Jsonl.ReadAll<EvalResult>(results);
        Assert.Equal(10, lines.Count);
        Assert.Equal(TaskFile.Read(tasks).Select(t => t.Id).Order(), lines.Select(r => r.TaskId).Order());
        foreach (var r in lines)
        {
            Assert.Null(r.Error);
            Assert.Equal("offline", r.Mode);
            Assert.Equal(OfflineChatClient.ModelId, r.Model);
            Assert.InRange(r.Score, 0.0, 1.0);
            Assert.StartsWith(OfflineChatClient.AnswerPrefix, r.Answer);
            Assert.Contains(r.StopReason, Enum.GetValues<RlmStopReason>().Select(RlmStopReasonText.GetName));
            Assert.True(r.ModelCalls >= 1);
            Assert.True(r.InputTokens > 0);
            Assert.Equal(r.InputTokens, r.UsageByModel.Values.Sum(u => u.InputTokens));
            Assert.Equal(0.0, r.CostUsd); // the offline model is priced at 0 in prices.json
            Assert.NotEmpty(r.ToolCalls);
            Assert.NotNull(r.Citations); // the host's check of the answer's citations, counted per task
            Assert.InRange(r.VerifiedCitations!.Value, 0, r.Citations!.Value);
        }

        // The offline model cites the lines it found (line N): the host verifies them.
        Assert.Contains(lines, r => r.Citations > 0 && r.VerifiedCitations == r.Citations);

        // Resume: nothing left to do.
        (code, _, err) = await Cli("run", "--tasks", tasks, "--mode", "offline", "--out", results);
        Assert.Equal(0, code);
        Assert.Contains("10 already done, 0 to run", err);
        Assert.Equal(10, File.ReadAllLines(results).Length);

        // Interrupted run: keep three results and a torn line; only the seven missing tasks run again.
        var kept = File.ReadAllLines(results).Take(3).ToList();
        File.WriteAllText(results, string.Join("\n", kept) + "\n{\"task_id\": \"s-ni");
        (code, _, err) = await Cli("run", "--tasks", tasks, "--mode", "offline", "--out", results);
        Assert.Equal(0, code);
        Assert.Contains("3 already done, 7 to run", err);
        var resumed = Jsonl.ReadAll<EvalResult>(results);
        Assert.Equal(10, resumed.Count);
        Assert.Equal(10, resumed.Select(r => r.TaskId).Distinct().Count());

        // A different mode cannot be appended to the same results file.
        (code, _, err) = await Cli("run", "--tasks", tasks, "--mode", "direct", "--model", "m", "--out", results);
        Assert.Equal(EvalCli.BadInput, code);
        Assert.Contains("holds results of mode offline", err);

        // The report has a section per family.
        var (reportCode, report, _) = await Cli("report", results);
        Assert.Equal(0, reportCode);
        foreach (var family in Families.All)
        {
            Assert.Contains("## " + Families.Title(family), report);
        }

        Assert.Contains("| mean score |", report);
        Assert.Contains("offline · rlm-offline", report);
    }

    [Fact]
    public async Task Direct_mode_cuts_long_contexts_to_the_window_and_records_it()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "tasks.jsonl");
        TaskFile.Write(Generation.TaskGenerator.Generate(Families.SNiah, 2048, 2, 1), tasks);
        var client = new RecordingClient();
        var settings = new RunSettings
        {
            TasksPath = tasks,
            OutPath = Path.Combine(dir, "results.jsonl"),
            Mode = RunModes.Direct,
            Model = "test-model",
            WindowTokens = 1000,
        };

        var summary = await new Runner(settings, TextWriter.Null, () => client).RunAsync(CancellationToken.None);

        Assert.Equal(2, summary.Ran);
        var results = Jsonl.ReadAll<EvalResult>(settings.OutPath);
        Assert.All(results, r =>
        {
            Assert.True(r.Cut);
            Assert.InRange(r.ContextCharsSent!.Value, 3000, 4000);
            Assert.Equal("direct", r.StopReason);
            Assert.Equal(1, r.ModelCalls);
            Assert.Equal(100, r.InputTokens);
            Assert.Null(r.CostUsd); // "test-model" has no price: unknown, not 0
        });
        Assert.All(client.Prompts, p => Assert.InRange(p.Length, 3000, 4000));
        Assert.All(client.Prompts, p => Assert.Contains("characters of the context cut to fit the window", p));
        Assert.All(client.Prompts, p => Assert.EndsWith("where [X] is the value.", p));
    }

    [Fact]
    public async Task A_failing_model_is_recorded_as_an_error_and_retried_on_resume()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "tasks.jsonl");
        TaskFile.Write(Generation.TaskGenerator.Generate(Families.Logs, 1024, 2, 1), tasks);
        var settings = new RunSettings { TasksPath = tasks, OutPath = Path.Combine(dir, "results.jsonl"), Mode = RunModes.Direct, Model = "m" };

        var failed = await new Runner(settings, TextWriter.Null, () => new RecordingClient { Fail = true }).RunAsync(CancellationToken.None);
        Assert.Equal(2, failed.Errors);
        Assert.All(Jsonl.ReadAll<EvalResult>(settings.OutPath), r => Assert.Contains("InvalidOperationException: endpoint down", r.Error));

        var retried = await new Runner(settings, TextWriter.Null, () => new RecordingClient()).RunAsync(CancellationToken.None);
        Assert.Equal(0, retried.AlreadyDone);
        Assert.Equal(2, retried.Ran);
        Assert.Equal(0, retried.Errors);
    }

    private sealed class RecordingClient : IChatClient
    {
        public List<string> Prompts { get; } = [];

        public bool Fail { get; init; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (Fail)
            {
                throw new InvalidOperationException("endpoint down");
            }

            lock (Prompts)
            {
                Prompts.Add(messages.Single().Text);
            }

            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Answer: 42"))
            {
                ModelId = options?.ModelId,
                Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 5 },
            });
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
