using System.Text.Json.Nodes;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Scoring;

/// <summary>A score in [0, 1] with the scorer's working (parsed answer, precision, …).</summary>
public sealed record ScoreResult(double Score, JsonObject Details);

/// <summary>Scores an answer by the rule of its task's answer type.</summary>
public static class Scorer
{
    public static ScoreResult Score(string answerType, string gold, string? answer)
    {
        answer ??= "";
        return answerType switch
        {
            AnswerTypes.Needle => NiahScorer.Score(gold, answer),
            AnswerTypes.Label or AnswerTypes.Comparison or AnswerTypes.Numeric or AnswerTypes.User or AnswerTypes.Date or AnswerTypes.MonthYear
                => OolongScorer.Score(answerType, gold, answer),
            AnswerTypes.Pairs => PairsScorer.Score(gold, answer),
            AnswerTypes.Number or AnswerTypes.OrderedList or AnswerTypes.Text => LogScorer.Score(answerType, gold, answer),
            _ => throw new ArgumentException($"Unknown answer type '{answerType}'.", nameof(answerType)),
        };
    }

    public static ScoreResult Score(EvalTask task, string? answer) => Score(task.AnswerType, task.Gold, answer);
}

/// <summary>
/// RULER's S-NIAH metric (string_match_all with one reference): 1 when the gold value occurs in the answer,
/// ignoring case, else 0.
/// </summary>
public static class NiahScorer
{
    public static ScoreResult Score(string gold, string answer)
    {
        var hit = answer.Contains(gold, StringComparison.OrdinalIgnoreCase);
        return new(hit ? 1.0 : 0.0, new JsonObject { ["rule"] = "substring_ci" });
    }
}
