using System.Globalization;
using System.Text.Json.Nodes;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Scoring;

/// <summary>
/// OOLONG-synth's scoring (abertsch72/oolong, <c>synth_process_response</c> and <c>synth_attempt_answer_parse</c>),
/// reimplemented:
/// <list type="number">
/// <item>Parse: with no <c>:</c> in the answer, the whole answer when shorter than 20 characters, else its last
/// whitespace-separated word. Otherwise the text after the last <c>:</c>, trimmed, without <c>*</c>, <c>[</c> and <c>]</c>;
/// when that is 20 characters or longer and contains "more common", "less common" or "same frequency", it becomes that phrase.</item>
/// <item>Score 1 when the parsed answer equals the gold answer exactly (case-sensitive).</item>
/// <item>Else, when the parsed answer is one of those three phrases, 1 when the gold answer contains it.</item>
/// <item>Else numeric answers score 0.75^|gold − answer| when the parsed answer is an integer.</item>
/// <item>Else date answers score 1 when the parsed answer is a date equal to the gold date.</item>
/// <item>Otherwise 0.</item>
/// </list>
/// </summary>
public static class OolongScorer
{
    private static readonly string[] Phrases = ["more common", "less common", "same frequency"];

    /// <summary>OOLONG's answer parse: the candidate answer and the parse confidence (low, med, high, vhigh).</summary>
    public static (string Candidate, string Confidence) Parse(string answer)
    {
        if (!answer.Contains(':'))
        {
            if (answer.Length < 20)
            {
                return (answer, "low");
            }

            var words = answer.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return (words.Length == 0 ? "" : words[^1], "low");
        }

        var candidate = answer[(answer.LastIndexOf(':') + 1)..].Trim();
        candidate = candidate.Replace("*", "", StringComparison.Ordinal).Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal);
        var confidence = "med";
        if (answer.Contains("User:", StringComparison.Ordinal) || answer.Contains("Answer:", StringComparison.Ordinal) ||
            answer.Contains("Date:", StringComparison.Ordinal) || answer.Contains("Label", StringComparison.Ordinal))
        {
            confidence = "high";
        }

        if (candidate.Length < 20)
        {
            confidence = "vhigh";
        }
        else
        {
            foreach (var phrase in Phrases)
            {
                if (candidate.Contains(phrase, StringComparison.Ordinal))
                {
                    candidate = phrase;
                    break;
                }
            }
        }

        return (candidate, confidence);
    }

    public static ScoreResult Score(string answerType, string gold, string answer)
    {
        var (candidate, confidence) = Parse(answer);
        double score = 0;
        if (candidate == gold)
        {
            score = 1;
        }
        else if (Array.IndexOf(Phrases, candidate) >= 0)
        {
            score = gold.Contains(candidate, StringComparison.Ordinal) ? 1 : 0;
        }
        else if (answerType == AnswerTypes.Numeric)
        {
            if (TryParsePythonInt(candidate, out var value) && TryParsePythonInt(gold, out var goldValue))
            {
                score = Math.Pow(0.75, Math.Abs((double)(goldValue - value)));
            }
            else
            {
                confidence = "low";
            }
        }
        else if (answerType == AnswerTypes.Date)
        {
            if (TryParseDate(candidate, out var date) && TryParseDate(gold, out var goldDate))
            {
                score = date == goldDate ? 1 : 0;
            }
            else
            {
                confidence = "low";
            }
        }

        return new(score, new JsonObject { ["parsed"] = candidate, ["parse_confidence"] = confidence });
    }

    /// <summary>Python's <c>int(str)</c>: optional surrounding white space, an optional sign, decimal digits (underscores between digits allowed).</summary>
    public static bool TryParsePythonInt(string text, out long value)
    {
        value = 0;
        var s = text.Trim();
        if (s.Length == 0 || s.StartsWith('_') || s.EndsWith('_') || s.Contains("__", StringComparison.Ordinal))
        {
            return false;
        }

        if (s[0] is '+' or '-')
        {
            if (s.Length == 1 || s[1] == '_')
            {
                return false;
            }
        }

        s = s.Replace("_", "", StringComparison.Ordinal);
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static readonly string[] DateFormats =
    [
        "MM/dd/yyyy", "M/d/yyyy", "yyyy-MM-dd", "yyyy/MM/dd", "MMM dd, yyyy", "MMM d, yyyy", "MMMM d, yyyy", "MMMM dd, yyyy",
        "d MMMM yyyy", "d MMM yyyy", "MMM d yyyy", "MMMM d yyyy",
    ];

    /// <summary>Parses a date leniently (the role of <c>dateutil.parser.parse</c>): month-first numeric dates, ISO dates and month names.</summary>
    public static bool TryParseDate(string text, out DateOnly date)
    {
        var s = text.Trim().TrimEnd('.');
        if (DateTime.TryParseExact(s, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var exact))
        {
            date = DateOnly.FromDateTime(exact);
            return true;
        }

        if (DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var loose))
        {
            date = DateOnly.FromDateTime(loose);
            return true;
        }

        date = default;
        return false;
    }
}
