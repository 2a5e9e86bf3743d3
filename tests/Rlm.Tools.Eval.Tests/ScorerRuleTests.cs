using Rlm.Tools.Eval.Model;
using Rlm.Tools.Eval.Scoring;

namespace Rlm.Tools.Eval.Tests;

/// <summary>The scorers' parsing rules on hand-written answers.</summary>
public class ScorerRuleTests
{
    [Theory]
    [InlineData("location", "location", "low")]                                      // no colon, short: whole answer
    [InlineData("The label that is most common is location", "location", "low")]    // no colon, long: last word
    [InlineData("Label: location", "location", "vhigh")]                             // after the last colon
    [InlineData("Label: **[location]**", "location", "vhigh")]                       // asterisks and brackets removed
    [InlineData("**Label:** location", " location", "vhigh")]                        // as in OOLONG: removed after the trim, so a space stays
    [InlineData("Thinking: a lot.\nAnswer: 42", "42", "vhigh")]                      // the last colon wins
    [InlineData("Answer: description and abstract concept is more common than numeric value", "more common", "high")]
    [InlineData("Answer: numeric value is less common than entity overall", "less common", "high")]
    [InlineData("Result: they occur with the same frequency as each other", "same frequency", "med")]
    public void Oolong_parse_follows_synth_attempt_answer_parse(string answer, string candidate, string confidence)
    {
        Assert.Equal((candidate, confidence), OolongScorer.Parse(answer));
    }

    [Theory]
    [InlineData(AnswerTypes.Label, "location", "Label: location", 1.0)]
    [InlineData(AnswerTypes.Label, "location", "Label: Location", 0.0)]             // exact match is case-sensitive
    [InlineData(AnswerTypes.Label, "location", "Label: entity", 0.0)]
    [InlineData(AnswerTypes.Comparison, "more common than", "Answer: entity is more common than location", 1.0)]
    [InlineData(AnswerTypes.Comparison, "more common than", "Answer: more common than", 1.0)]
    [InlineData(AnswerTypes.Comparison, "more common than", "Answer: entity is less common than location", 0.0)]
    [InlineData(AnswerTypes.Comparison, "less common", "Answer: location is less common before Mar 03, 2023", 1.0)]
    [InlineData(AnswerTypes.Comparison, "the same frequency", "Answer: location is the same frequency before Mar 03, 2023", 1.0)]
    [InlineData(AnswerTypes.Numeric, "12", "Answer: 12", 1.0)]
    [InlineData(AnswerTypes.Numeric, "12", "Answer: 13", 0.75)]
    [InlineData(AnswerTypes.Numeric, "12", "Answer: 10", 0.5625)]
    [InlineData(AnswerTypes.Numeric, "12", "Answer: twelve", 0.0)]
    [InlineData(AnswerTypes.Numeric, "12", "Answer: 12.0", 0.0)]                     // Python int() rejects "12.0"
    [InlineData(AnswerTypes.User, "48213", "User: 48213", 1.0)]
    [InlineData(AnswerTypes.User, "48213", "User: 48214", 0.0)]                      // no partial credit for users
    [InlineData(AnswerTypes.Date, "2023-05-17", "Date: 05/17/2023", 1.0)]
    [InlineData(AnswerTypes.Date, "2023-05-17", "Date: May 17, 2023", 1.0)]
    [InlineData(AnswerTypes.Date, "2023-05-17", "Date: 2023-05-17", 1.0)]
    [InlineData(AnswerTypes.Date, "2023-05-17", "Date: 05/18/2023", 0.0)]
    [InlineData(AnswerTypes.MonthYear, "March 2023", "Answer: March 2023", 1.0)]
    [InlineData(AnswerTypes.MonthYear, "March 2023", "Answer: 03/2023", 0.0)]
    public void Oolong_scores_follow_synth_process_response(string answerType, string gold, string answer, double expected)
    {
        Assert.Equal(expected, OolongScorer.Score(answerType, gold, answer).Score, 10);
    }

    [Theory]
    [InlineData("(10001, 10002)\n(10003, 10004)", "(10001, 10002)\n(10003, 10004)", 1.0)]
    [InlineData("(10001, 10002)\n(10003, 10004)", "(10002,10001) and ( 10004 , 10003 )", 1.0)]   // normalised to (min, max)
    [InlineData("(10001, 10002)\n(10003, 10004)", "(10001, 10002)", 2.0 / 3)]                    // P = 1, R = 1/2
    [InlineData("(10001, 10002)", "(10001, 10002)\n(10003, 10004)\n(10005, 10006)", 0.5)]         // P = 1/3, R = 1
    [InlineData("(10001, 10002)", "(10001, 10002)\n(10001, 10002)", 1.0)]                        // duplicates count once
    [InlineData("", "", 1.0)]                                                                     // empty gold, empty answer
    [InlineData("", "No pairs qualify.", 1.0)]
    [InlineData("", "(10001, 10002)", 0.0)]
    [InlineData("(10001, 10002)", "none", 0.0)]
    public void Pairs_score_is_set_f1(string gold, string answer, double expected)
    {
        Assert.Equal(expected, PairsScorer.Score(gold, answer).Score, 10);
    }

    [Theory]
    [InlineData("4821937", "Answer: 4821937", 1.0)]
    [InlineData("4821937", "The special magic number for sour-lamp is 4821937.", 1.0)]
    [InlineData("3f2a9c1e-0b7d-4e55-9a10-2c3d4e5f6a7b", "answer: 3F2A9C1E-0B7D-4E55-9A10-2C3D4E5F6A7B", 1.0)] // case-insensitive
    [InlineData("4821937", "Answer: 4821936", 0.0)]
    public void Niah_is_a_case_insensitive_substring_match(string gold, string answer, double expected)
    {
        Assert.Equal(expected, NiahScorer.Score(gold, answer).Score);
    }

    [Theory]
    [InlineData(AnswerTypes.Number, "12345", "Answer: 12345", 1.0)]
    [InlineData(AnswerTypes.Number, "12345", "Answer: 12,345", 1.0)]
    [InlineData(AnswerTypes.Number, "12345", "The total is 12346.", 0.75)]
    [InlineData(AnswerTypes.Number, "12345", "Between 10:00 and 11:00 the answer: **12343**", 0.5625)]
    [InlineData(AnswerTypes.Number, "7", "Answer: none", 0.0)]
    [InlineData(AnswerTypes.OrderedList, "u1042, u2033, u1111", "Answer: u1042, u2033, u1111", 1.0)]
    [InlineData(AnswerTypes.OrderedList, "u1042, u2033, u1111", "Answer: U1042 u2033 u1111.", 1.0)]
    [InlineData(AnswerTypes.OrderedList, "u1042, u2033, u1111", "Answer: u2033, u1042, u1111", 0.0)]
    [InlineData(AnswerTypes.Text, "2024-03-05T14", "Answer: `2024-03-05T14`.", 1.0)]
    [InlineData(AnswerTypes.Text, "2024-03-05T14", "Answer: 2024-03-05T15", 0.0)]
    public void Log_scores_are_exact_with_partial_credit_for_numbers(string answerType, string gold, string answer, double expected)
    {
        Assert.Equal(expected, LogScorer.Score(answerType, gold, answer).Score, 10);
    }
}
