using Rlm.Tools.Eval.Model;
using Rlm.Tools.Eval.Reporting;
using Rlm.Tools.Eval.Running;

namespace Rlm.Tools.Eval.Tests;

public class ReportTests
{
    private static EvalResult Result(string id, string mode, string model, double score, double seconds, double? cost, int tokens = 2048) => new()
    {
        TaskId = id,
        Family = Families.Logs,
        Mode = mode,
        Model = model,
        TargetTokens = tokens,
        Gold = "1",
        AnswerType = AnswerTypes.Number,
        Score = score,
        WallTimeMs = seconds * 1000,
        CostUsd = cost,
        InputTokens = 1000,
        OutputTokens = 10,
        SubCalls = 2,
    };

    [Fact]
    public void Several_files_are_side_by_side_and_the_last_result_of_a_task_wins()
    {
        var dir = TestSupport.TempDirectory();
        var a = Path.Combine(dir, "a.jsonl");
        var b = Path.Combine(dir, "b.jsonl");
        File.WriteAllLines(a, new[]
        {
            Result("t1", "offline", "rlm-offline", 0, 1, 0),
            Result("t1", "offline", "rlm-offline", 1, 1, 0), // retried on resume: this one counts
            Result("t2", "offline", "rlm-offline", 0, 3, 0, tokens: 8192),
        }.Select(Jsonl.Serialize).Append("{\"torn"));
        File.WriteAllLines(b, new[] { Result("t1", "rlm", "gpt-x", 1, 10, null), Result("t2", "rlm", "gpt-x", 1, 20, 0.5, tokens: 8192) }.Select(Jsonl.Serialize));

        var markdown = Reporter.Render(Reporter.Load([a, b]), [a, b]);

        Assert.Contains("| | offline · rlm-offline | rlm · gpt-x |", markdown);
        Assert.Contains("| mean score | 0.500 | 1.000 |", markdown);
        Assert.Contains("| total cost (USD) | 0.0000 | n/a (unpriced) |", markdown);
        Assert.Contains("| latency p50 (s) | 1.00 | 10.00 |", markdown);
        Assert.Contains("| latency p95 (s) | 3.00 | 20.00 |", markdown);
        Assert.Contains("| sub-calls per task | 2.0 | 2.0 |", markdown);
        Assert.Contains("| 2K | 1.000 (n=1) | 1.000 (n=1) |", markdown);
        Assert.Contains("| 8K | 0.000 (n=1) | 1.000 (n=1) |", markdown);
    }

    [Fact]
    public void Verified_citations_are_a_mean_share_per_citing_task()
    {
        var dir = TestSupport.TempDirectory();
        var a = Path.Combine(dir, "a.jsonl");
        var cites = Result("t1", "rlm", "gpt-x", 1, 1, 0);
        cites.Citations = 4;
        cites.VerifiedCitations = 3;
        var all = Result("t2", "rlm", "gpt-x", 1, 1, 0);
        all.Citations = 1;
        all.VerifiedCitations = 1;
        var none = Result("t3", "rlm", "gpt-x", 1, 1, 0);
        none.Citations = 0;
        none.VerifiedCitations = 0;
        File.WriteAllLines(a, new[] { cites, all, none }.Select(Jsonl.Serialize));

        var markdown = Reporter.Render(Reporter.Load([a]), [a]);

        Assert.Contains("| verified citations (mean share per task) | 87.5% (n=2) |", markdown); // (3/4 + 1/1) / 2; t3 cites nothing
    }

    [Fact]
    public void Percentiles_use_the_nearest_rank()
    {
        double[] values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
        Assert.Equal(5, Reporter.Percentile(values, 0.5));
        Assert.Equal(10, Reporter.Percentile(values, 0.95));
        Assert.Equal(1, Reporter.Percentile(values, 0.01));
    }

    [Fact]
    public void Unknown_models_have_unknown_cost_and_prefixes_find_dated_ids()
    {
        var table = new PriceTable(new Dictionary<string, ModelPrice>
        {
            ["gpt-5"] = new() { InputPerMillion = 1.25, OutputPerMillion = 10 },
            ["gpt-5-mini"] = new() { InputPerMillion = 0.25, OutputPerMillion = 2 },
        });

        Assert.Equal(0.25, table.Find("gpt-5-mini-2025-08-07")!.InputPerMillion);
        Assert.Equal(1.25, table.Find("openai/gpt-5")!.InputPerMillion);
        Assert.Null(table.Find("llama3"));
        var usage = new Dictionary<string, TokenUsage> { ["gpt-5"] = new() { InputTokens = 1_000_000, OutputTokens = 100_000 } };
        Assert.Equal(2.25, table.Cost(usage)!.Value, 10);
        usage["llama3"] = new() { InputTokens = 10 };
        Assert.Null(table.Cost(usage));
    }

    [Fact]
    public void The_shipped_price_table_loads()
    {
        var table = PriceTable.Load(PriceTable.DefaultPath);
        Assert.Equal(0, table.Find(OfflineChatClient.ModelId)!.InputPerMillion);
    }
}
