using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Rlm.Tools.Eval.Scoring;

/// <summary>
/// OOLONG-Pairs scoring: every <c>(id1, id2)</c> in the answer is a pair, normalised to (min, max); the score is the F1
/// of the answer's pair set against the gold set. An empty gold set and an empty answer set score 1; exactly one empty scores 0.
/// </summary>
public static partial class PairsScorer
{
    [GeneratedRegex(@"\(\s*(\d+)\s*,\s*(\d+)\s*\)")]
    private static partial Regex PairPattern();

    public static HashSet<(long A, long B)> ParsePairs(string text)
    {
        var set = new HashSet<(long, long)>();
        foreach (Match m in PairPattern().Matches(text))
        {
            if (long.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var a) &&
                long.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var b))
            {
                set.Add((Math.Min(a, b), Math.Max(a, b)));
            }
        }

        return set;
    }

    public static ScoreResult Score(string gold, string answer)
    {
        var goldSet = ParsePairs(gold);
        var predicted = ParsePairs(answer);
        var truePositives = predicted.Count(goldSet.Contains);
        double precision, recall, f1;
        if (goldSet.Count == 0 && predicted.Count == 0)
        {
            precision = recall = f1 = 1;
        }
        else if (goldSet.Count == 0 || predicted.Count == 0)
        {
            precision = predicted.Count == 0 ? 0 : truePositives / (double)predicted.Count;
            recall = goldSet.Count == 0 ? 0 : truePositives / (double)goldSet.Count;
            f1 = 0;
        }
        else
        {
            precision = truePositives / (double)predicted.Count;
            recall = truePositives / (double)goldSet.Count;
            f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }

        return new(f1, new JsonObject
        {
            ["precision"] = precision,
            ["recall"] = recall,
            ["predicted_pairs"] = predicted.Count,
            ["gold_pairs"] = goldSet.Count,
            ["true_positives"] = truePositives,
        });
    }
}
