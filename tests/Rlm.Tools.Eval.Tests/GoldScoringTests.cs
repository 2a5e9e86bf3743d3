using System.Globalization;
using Rlm.Tools.Eval.Generation;
using Rlm.Tools.Eval.Model;
using Rlm.Tools.Eval.Scoring;

namespace Rlm.Tools.Eval.Tests;

/// <summary>Every family's gold answer scores 1 through its own scorer; systematically wrong answers score lower.</summary>
public class GoldScoringTests
{
    public static TheoryData<string> AllFamilies() => new(Families.All);

    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void Gold_answers_score_one(string family)
    {
        foreach (var task in TestSupport.Tasks(family))
        {
            Assert.Equal(1.0, Scorer.Score(task, TestSupport.GoldAnswer(task)).Score);
            if (family != Families.Oolong)
            {
                // OOLONG's parser takes the last word of a long answer without a colon, so its gold needs the asked-for form.
                Assert.Equal(1.0, Scorer.Score(task, task.Gold).Score);
            }
        }
    }

    [Fact]
    public void Niah_wrong_or_decoy_values_score_zero()
    {
        foreach (var task in TestSupport.Tasks(Families.SNiahDecoy))
        {
            var needles = System.Text.RegularExpressions.Regex.Matches(task.Context!, @"One of the special magic \w+ for [a-z]+-[a-z]+ is: (\S+)\.")
                .Select(m => m.Groups[1].Value).Where(v => v != task.Gold).ToList();
            Assert.NotEmpty(needles);
            Assert.All(needles, decoy => Assert.Equal(0.0, Scorer.Score(task, "Answer: " + decoy).Score));
            Assert.Equal(0.0, Scorer.Score(task, "I could not find it.").Score);
        }
    }

    [Fact]
    public void Oolong_off_by_one_counts_score_three_quarters_and_swapped_comparisons_zero()
    {
        var tasks = TestSupport.Tasks(Families.Oolong);
        var numeric = tasks.Where(t => t.AnswerType == AnswerTypes.Numeric).ToList();
        Assert.NotEmpty(numeric);
        foreach (var task in numeric)
        {
            var gold = int.Parse(task.Gold, CultureInfo.InvariantCulture);
            Assert.Equal(0.75, Scorer.Score(task, "Answer: " + (gold + 1).ToString(CultureInfo.InvariantCulture)).Score, 10);
            Assert.Equal(0.5625, Scorer.Score(task, "Answer: " + (gold + 2).ToString(CultureInfo.InvariantCulture)).Score, 10);
            if (gold > 0)
            {
                Assert.Equal(0.75, Scorer.Score(task, "Answer: " + (gold - 1).ToString(CultureInfo.InvariantCulture)).Score, 10);
            }
        }

        var comparisons = tasks.Where(t => t.AnswerType == AnswerTypes.Comparison).ToList();
        Assert.NotEmpty(comparisons);
        foreach (var task in comparisons)
        {
            var swapped = task.Gold switch
            {
                "more common than" => "less common than",
                "less common than" => "more common than",
                "more common" => "less common",
                "less common" => "more common",
                _ => "more common than",
            };
            Assert.Equal(0.0, Scorer.Score(task, "Answer: " + swapped).Score);
        }
    }

    [Fact]
    public void Oolong_wrong_labels_users_and_dates_score_zero()
    {
        foreach (var task in TestSupport.Tasks(Families.Oolong))
        {
            switch (task.AnswerType)
            {
                case AnswerTypes.Label:
                    Assert.Equal(0.0, Scorer.Score(task, "Label: " + OolongCorpus.Labels.First(l => l != task.Gold)).Score);
                    break;
                case AnswerTypes.User:
                    Assert.Equal(0.0, Scorer.Score(task, "User: " + (int.Parse(task.Gold, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture)).Score);
                    break;
                case AnswerTypes.Date:
                    var wrong = DateOnly.ParseExact(task.Gold, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(1);
                    Assert.Equal(0.0, Scorer.Score(task, "Date: " + wrong.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture)).Score);
                    break;
            }
        }
    }

    [Fact]
    public void Pairs_with_missing_or_extra_pairs_score_lower()
    {
        foreach (var task in TestSupport.Tasks(Families.OolongPairs))
        {
            var gold = PairsScorer.ParsePairs(task.Gold).OrderBy(p => p).ToList();
            if (gold.Count == 0)
            {
                Assert.Equal(0.0, Scorer.Score(task, "(10000, 10001)").Score);
                continue;
            }

            var missing = string.Join("\n", gold.Skip(1).Select(p => $"({p.A}, {p.B})"));
            var extra = task.Gold + "\n(1, 2)";
            var reversed = string.Join("\n", gold.Select(p => $"({p.B}, {p.A})"));
            Assert.True(Scorer.Score(task, missing).Score < 1.0);
            Assert.True(Scorer.Score(task, extra).Score < 1.0);
            Assert.Equal(1.0, Scorer.Score(task, reversed).Score);
            Assert.Equal(0.0, Scorer.Score(task, "There are no such pairs.").Score);
        }
    }

    [Fact]
    public void Logs_off_by_one_numbers_score_three_quarters_and_wrong_lists_zero()
    {
        var tasks = TaskGenerator.Generate(Families.Logs, 2048, 14, 8).ToList();
        foreach (var task in tasks)
        {
            switch (task.AnswerType)
            {
                case AnswerTypes.Number:
                    var gold = long.Parse(task.Gold, CultureInfo.InvariantCulture);
                    Assert.Equal(0.75, Scorer.Score(task, "Answer: " + (gold + 1).ToString(CultureInfo.InvariantCulture)).Score, 10);
                    break;
                case AnswerTypes.OrderedList:
                    var items = task.Gold.Split(", ");
                    Assert.Equal(0.0, Scorer.Score(task, "Answer: " + string.Join(", ", items.Reverse())).Score);
                    Assert.Equal(0.0, Scorer.Score(task, "Answer: " + string.Join(", ", items.Skip(1))).Score);
                    break;
                case AnswerTypes.Text:
                    Assert.Equal(0.0, Scorer.Score(task, "Answer: 1999-01-01T00").Score);
                    break;
            }
        }
    }
}
