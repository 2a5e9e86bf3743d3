using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Scoring;

/// <summary>
/// Log-aggregation scoring. The answer's text after the last "Answer:" (case-insensitive; the whole answer when there is none),
/// without <c>*</c> and backticks, is compared with the gold answer:
/// numbers score 0.75^|gold − answer| for the first number in that text (thousands separators allowed);
/// ordered lists score 1 when the comma- or space-separated items equal the gold items in order (case-insensitive);
/// text scores 1 when it equals the gold text (case-insensitive, surrounding quotes and a final period ignored).
/// </summary>
public static partial class LogScorer
{
    [GeneratedRegex(@"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")]
    private static partial Regex NumberPattern();

    public static string Segment(string answer)
    {
        var index = answer.LastIndexOf("answer:", StringComparison.OrdinalIgnoreCase);
        var segment = index >= 0 ? answer[(index + "answer:".Length)..] : answer;
        return segment.Replace("*", "", StringComparison.Ordinal).Replace("`", "", StringComparison.Ordinal).Trim();
    }

    public static ScoreResult Score(string answerType, string gold, string answer)
    {
        var segment = Segment(answer);
        switch (answerType)
        {
            case AnswerTypes.Number:
            {
                var match = NumberPattern().Match(segment);
                if (!match.Success || !decimal.TryParse(match.Value.Replace(",", "", StringComparison.Ordinal), NumberStyles.Number, CultureInfo.InvariantCulture, out var value))
                {
                    return new(0, new JsonObject { ["parsed"] = null });
                }

                var goldValue = decimal.Parse(gold, NumberStyles.Number, CultureInfo.InvariantCulture);
                var score = Math.Pow(0.75, (double)Math.Abs(goldValue - value));
                return new(score, new JsonObject { ["parsed"] = value.ToString(CultureInfo.InvariantCulture) });
            }

            case AnswerTypes.OrderedList:
            {
                var items = Items(segment);
                var goldItems = Items(gold);
                var equal = items.SequenceEqual(goldItems, StringComparer.OrdinalIgnoreCase);
                return new(equal ? 1 : 0, new JsonObject { ["parsed"] = string.Join(", ", items) });
            }

            case AnswerTypes.Text:
            {
                var text = segment.Trim().Trim('"', '\'').TrimEnd('.').Trim();
                return new(string.Equals(text, gold, StringComparison.OrdinalIgnoreCase) ? 1 : 0, new JsonObject { ["parsed"] = text });
            }

            default:
                throw new ArgumentException($"Not a log answer type: '{answerType}'.", nameof(answerType));
        }
    }

    private static List<string> Items(string text) =>
        text.Split([',', ';', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.Trim().Trim('"', '\'').TrimEnd('.'))
            .Where(s => s.Length > 0)
            .ToList();
}
