using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Tests;

/// <summary>A results line names what it shares with <c>rlm --json</c> by the same keys, and older results files still read.</summary>
public class ResultKeysTests
{
    private static EvalResult Sample() => new()
    {
        TaskId = "t1",
        Family = Families.Logs,
        Mode = "rlm",
        Model = "m",
        Gold = "1",
        AnswerType = AnswerTypes.Number,
        StopReason = RlmStopReasonText.GetName(RlmStopReason.FinalVariable),
        WallTimeMs = 1234.5,
        MaxDepthReached = 2,
    };

    [Fact]
    public void A_result_line_uses_the_shared_keys_and_stop_reason_names()
    {
        string line = Jsonl.Serialize(Sample());

        Assert.Contains("\"stop_reason\":\"final_var\"", line, StringComparison.Ordinal);
        Assert.Contains("\"wall_time_ms\":1234.5", line, StringComparison.Ordinal);
        Assert.Contains("\"max_depth_reached\":2", line, StringComparison.Ordinal);
        Assert.DoesNotContain("wall_seconds", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\"max_depth\"", line, StringComparison.Ordinal);
        var back = Jsonl.Deserialize<EvalResult>(line);
        Assert.Equal((1234.5, 2, "final_var"), (back.WallTimeMs, back.MaxDepthReached, back.StopReason));
    }

    [Fact]
    public void A_result_line_written_with_the_old_keys_still_reads()
    {
        string line = Jsonl.Serialize(Sample()).Replace("\"wall_time_ms\":1234.5", "\"wall_seconds\":2.5", StringComparison.Ordinal)
            .Replace("\"max_depth_reached\":2", "\"max_depth\":3", StringComparison.Ordinal);

        var old = Jsonl.Deserialize<EvalResult>(line);

        Assert.Equal(2500, old.WallTimeMs);
        Assert.Equal(3, old.MaxDepthReached);
    }
}
