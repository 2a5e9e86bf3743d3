using System.Globalization;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Generation;

/// <summary>One candidate OOLONG question with its exact answer.</summary>
public sealed record OolongQuestion(string Group, string Kind, string Question, string Gold, string AnswerType, bool InputSubset);

/// <summary>
/// The question templates of OOLONG-synth (counting, user and timeline groups), answered exactly from a window's records.
/// The wording follows OOLONG-synth's templates; questions whose answer would be a tie (or, for frequency comparisons,
/// a difference of 2% or less) are not asked, as in OOLONG.
/// </summary>
public static class OolongQuestions
{
    private const string AboveData = "In the above data,";

    private static readonly string[] MonthNames =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>All candidate questions of a window, in a deterministic order.</summary>
    public static List<OolongQuestion> All(IReadOnlyList<OolongRecord> records, DeterministicRandom rng)
    {
        var questions = new List<OolongQuestion>();
        questions.AddRange(Counting(CountLabels(records), "counting", null));
        questions.AddRange(UserQuestions(records, rng));
        questions.AddRange(TimelineQuestions(records, rng));
        return questions;
    }

    /// <summary>Picks <paramref name="count"/> questions, round-robin over the counting, user and timeline groups.</summary>
    public static List<OolongQuestion> Select(List<OolongQuestion> candidates, int count, DeterministicRandom rng)
    {
        // Within each group, alternate between question kinds so rare kinds are not drowned by the many count questions.
        var groups = new[] { "counting", "user", "timeline" }
            .Select(g =>
            {
                var kinds = candidates.Where(q => q.Group == g).GroupBy(q => q.Kind).Select(k =>
                {
                    var list = k.ToList();
                    rng.Shuffle(list);
                    return new Queue<OolongQuestion>(list);
                }).ToList();
                rng.Shuffle(kinds);
                var interleaved = new List<OolongQuestion>();
                while (kinds.Any(k => k.Count > 0))
                {
                    foreach (var k in kinds.Where(k => k.Count > 0))
                    {
                        interleaved.Add(k.Dequeue());
                    }
                }

                return new Queue<OolongQuestion>(interleaved);
            })
            .ToArray();
        var selected = new List<OolongQuestion>();
        while (selected.Count < count && groups.Any(g => g.Count > 0))
        {
            foreach (var g in groups)
            {
                if (selected.Count < count && g.Count > 0)
                {
                    selected.Add(g.Dequeue());
                }
            }
        }

        return selected;
    }

    public static Dictionary<string, int> CountLabels(IEnumerable<OolongRecord> records)
    {
        var counts = OolongCorpus.Labels.ToDictionary(l => l, _ => 0, StringComparer.Ordinal);
        foreach (var r in records)
        {
            counts[r.Label]++;
        }

        return counts;
    }

    /// <summary>OOLONG's counting tasks over label counts; <paramref name="prefix"/> replaces "In the above data," for subsets.</summary>
    public static IEnumerable<OolongQuestion> Counting(Dictionary<string, int> counts, string group, string? prefix)
    {
        var total = counts.Values.Sum();
        if (total == 0)
        {
            yield break;
        }

        var lead = prefix ?? AboveData;
        var subset = prefix is not null;
        var labelList = string.Join(", ", OolongCorpus.Labels);
        var ranked = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();

        if (ranked[0].Value > ranked[1].Value && (ranked[0].Value - ranked[1].Value) / (double)total > 0.02)
        {
            yield return new(group, "most_common_label",
                $"{lead} which of the labels is the most common? Give your final answer in the form 'Label: answer' where answer is one of the labels: {labelList}.",
                ranked[0].Key, AnswerTypes.Label, subset);
        }

        if (ranked[^1].Value < ranked[^2].Value)
        {
            yield return new(group, "least_common_label",
                $"{lead} which of the labels is the least common? Give your final answer in the form 'Label: answer' where answer is one of the labels: {labelList}.",
                ranked[^1].Key, AnswerTypes.Label, subset);
        }

        var labels = OolongCorpus.Labels;
        for (var i = 0; i < labels.Length; i++)
        {
            for (var j = i + 1; j < labels.Length; j++)
            {
                var a = labels[i];
                var b = labels[j];
                var diff = (counts[a] - counts[b]) / (double)total;
                if (Math.Abs(diff) > 0.02 || counts[a] == counts[b])
                {
                    var relation = counts[a] > counts[b] ? "more common than" : counts[a] < counts[b] ? "less common than" : "same frequency as";
                    yield return new(group, "label_comparison",
                        $"{lead} is label '{a}' more common, less common, or the same frequency as label '{b}'? Give your final answer in the form 'Answer: {a} is [X] {b}', where [X] is 'more common than', 'less common than', or 'same frequency as'.",
                        relation, AnswerTypes.Comparison, subset);
                }
            }
        }

        foreach (var label in labels)
        {
            yield return new(group, "label_count",
                $"{lead} how many data points should be classified as label '{label}'? Give your final answer in the form 'Answer: number'.",
                counts[label].ToString(CultureInfo.InvariantCulture), AnswerTypes.Numeric, subset);
        }
    }

    private static IEnumerable<OolongQuestion> UserQuestions(IReadOnlyList<OolongRecord> records, DeterministicRandom rng)
    {
        var result = new List<OolongQuestion>();
        var userCounts = records.GroupBy(r => r.User).Select(g => (User: g.Key, Count: g.Count()))
            .OrderByDescending(x => x.Count).ThenBy(x => x.User).ToList();
        if (userCounts.Count > 1 && userCounts[0].Count > userCounts[1].Count)
        {
            result.Add(new("user", "most_frequent_user",
                $"{AboveData} which user is represented most often? Give your final answer in the form 'User: [X]', where [X] is the user ID.",
                Id(userCounts[0].User), AnswerTypes.User, false));
            if (userCounts.Count == 2 || userCounts[1].Count > userCounts[2].Count)
            {
                result.Add(new("user", "second_most_frequent_user",
                    $"{AboveData} which user is represented the second most often? Give your final answer in the form 'User: [X]', where [X] is the user ID.",
                    Id(userCounts[1].User), AnswerTypes.User, false));
            }
        }

        // Per label: the user with the most instances, and a comparison between two users.
        foreach (var label in OolongCorpus.Labels)
        {
            var perUser = records.Where(r => r.Label == label).GroupBy(r => r.User).Select(g => (User: g.Key, Count: g.Count()))
                .OrderByDescending(x => x.Count).ThenBy(x => x.User).ToList();
            if (perUser.Count > 1 && perUser[0].Count > perUser[1].Count)
            {
                result.Add(new("user", "top_user_for_label",
                    $"{AboveData} which user has the most instances with the label {label}? Give your final answer in the form 'User: [X]', where [X] is the user ID.",
                    Id(perUser[0].User), AnswerTypes.User, false));
            }

            var top = perUser.Take(10).ToList();
            for (var attempt = 0; attempt < 10 && top.Count > 1; attempt++)
            {
                var middle = Math.Min(5, (top.Count - 1) / 2);
                var first = top[rng.NextInclusive(0, middle)];
                var second = top[rng.NextInclusive(middle, top.Count - 1)];
                if (first.Count > second.Count + 1)
                {
                    var (shownA, shownB) = rng.Chance(0.5) ? (first.User, second.User) : (second.User, first.User);
                    result.Add(new("user", "user_comparison_for_label",
                        $"{AboveData} which user has more instances with the label {label}: User {Id(shownA)} or User {Id(shownB)}? Give your final answer in the form 'User: [X]', where [X] is the user ID.",
                        Id(first.User), AnswerTypes.User, false));
                    break;
                }
            }
        }

        // A subset of 10 to 20 of the 50 most frequent users.
        var top50 = userCounts.Take(50).Select(x => x.User).ToList();
        if (top50.Count >= 3)
        {
            var size = Math.Min(rng.NextInclusive(10, 20), Math.Max(2, (int)(top50.Count * 0.8)));
            var pool = top50.ToList();
            rng.Shuffle(pool);
            var subset = pool.Take(size).ToList();
            var subsetSet = subset.ToHashSet();
            var names = string.Join(", ", subset.Select(Id));
            var inSubset = records.Where(r => subsetSet.Contains(r.User)).ToList();
            var subsetCounts = inSubset.GroupBy(r => r.User).Select(g => (User: g.Key, Count: g.Count()))
                .OrderByDescending(x => x.Count).ThenBy(x => x.User).ToList();
            var lead = $"For the following question, only consider the subset of users with IDs {names}. Among these users,";
            if (subsetCounts.Count > 1 && subsetCounts[0].Count > subsetCounts[1].Count)
            {
                result.Add(new("user", "most_frequent_user_in_subset",
                    $"{lead} which user is represented most often? Give your final answer in the form 'User: [X]', where [X] is the user ID.",
                    Id(subsetCounts[0].User), AnswerTypes.User, true));
                if (subsetCounts.Count > 2 && subsetCounts[1].Count > subsetCounts[2].Count)
                {
                    result.Add(new("user", "second_most_frequent_user_in_subset",
                        $"{lead} which user is represented the second most often? Give your final answer in the form 'User: [X]', where [X] is the user ID.",
                        Id(subsetCounts[1].User), AnswerTypes.User, true));
                }
            }

            result.AddRange(Counting(CountLabels(inSubset), "user",
                $"For the following question, only consider the subset of instances that are associated with user IDs {names}. Among instances associated with these users,"));

            foreach (var label in OolongCorpus.Labels)
            {
                var perUser = inSubset.Where(r => r.Label == label).GroupBy(r => r.User).Select(g => (User: g.Key, Count: g.Count()))
                    .OrderByDescending(x => x.Count).ThenBy(x => x.User).ToList();
                if (perUser.Count > 1 && perUser[0].Count > perUser[1].Count)
                {
                    result.Add(new("user", "top_user_for_label_in_subset",
                        $"{lead} which user has the most instances with the label {label}? Give your final answer in the form 'User: [X]', where [X] is the user ID.",
                        Id(perUser[0].User), AnswerTypes.User, true));
                }
            }
        }

        return result;
    }

    private static IEnumerable<OolongQuestion> TimelineQuestions(IReadOnlyList<OolongRecord> records, DeterministicRandom rng)
    {
        var result = new List<OolongQuestion>();
        if (records.Count < 4)
        {
            return result;
        }

        var dateCounts = records.GroupBy(r => r.Date).Select(g => (Date: g.Key, Count: g.Count()))
            .OrderByDescending(x => x.Count).ThenBy(x => x.Date).ToList();
        if (dateCounts.Count > 1 && dateCounts[0].Count > dateCounts[1].Count)
        {
            result.Add(new("timeline", "most_frequent_date",
                $"{AboveData} which date is represented most often? Give your final answer in the form 'Date: [X]', where [X] is the date in the format MM/DD/YYYY.",
                IsoDate(dateCounts[0].Date), AnswerTypes.Date, false));
            if (dateCounts.Count > 2 && dateCounts[1].Count > dateCounts[2].Count)
            {
                result.Add(new("timeline", "second_most_frequent_date",
                    $"{AboveData} which date is represented the second most often? Give your final answer in the form 'Date: [X]', where [X] is the date in the format MM/DD/YYYY.",
                    IsoDate(dateCounts[1].Date), AnswerTypes.Date, false));
            }
        }

        if (dateCounts.Count > 3)
        {
            var n = dateCounts[3].Count;
            var datesWithN = dateCounts.Count(x => x.Count == n);
            result.Add(new("timeline", "dates_with_n_instances",
                $"{AboveData} how many dates are represented exactly {n} times? Give your final answer in the form 'Answer: [X]', where [X] is the number of dates represented exactly {n} times.",
                Num(datesWithN), AnswerTypes.Numeric, false));
        }

        var sorted = records.OrderBy(r => r.Date).ToList();

        // Label frequency before vs after a date (instances on that date excluded).
        for (var patience = 10; patience > 0; patience--)
        {
            var pivot = sorted[rng.NextInclusive((int)(sorted.Count * 0.15), Math.Max((int)(sorted.Count * 0.15), (int)(sorted.Count * 0.75)))].Date;
            var before = sorted.Where(r => r.Date < pivot).ToList();
            var after = sorted.Where(r => r.Date > pivot).ToList();
            if (before.Count == 0 || after.Count == 0)
            {
                continue;
            }

            var labels = OolongCorpus.Labels.ToList();
            rng.Shuffle(labels);
            var asked = false;
            foreach (var label in labels)
            {
                var diff = before.Count(r => r.Label == label) / (double)before.Count - after.Count(r => r.Label == label) / (double)after.Count;
                if (Math.Abs(diff) > 0.02)
                {
                    var when = OolongCorpus.FormatDate(pivot);
                    result.Add(new("timeline", "before_after_comparison",
                        $"{AboveData} was label '{label}' more common, less common, or the same frequency before {when}, as compared to after {when}? Give your final answer in the form 'Answer: {label} is [X] before {when}', where [X] is 'more common', 'less common', or 'the same frequency'.",
                        diff > 0 ? "more common" : "less common", AnswerTypes.Comparison, false));
                    asked = true;
                    break;
                }
            }

            if (asked)
            {
                break;
            }
        }

        // Counting tasks restricted to one calendar month (of any year).
        var monthsPresent = records.Select(r => r.Date.Month).Distinct().Order().ToList();
        var month = rng.Pick(monthsPresent);
        var monthName = MonthNames[month - 1];
        result.AddRange(Counting(CountLabels(records.Where(r => r.Date.Month == month)), "timeline",
            $"For the following question, only consider the subset of instances that occur in {monthName} of any year. Among instances occurring in {monthName},"));

        // Counting tasks restricted to a date range (inclusive).
        if (sorted.Count > 20)
        {
            var start = sorted[rng.NextInclusive((int)(sorted.Count * 0.1), (int)(sorted.Count * 0.5))].Date;
            var end = sorted[rng.NextInclusive((int)(sorted.Count * 0.55), (int)(sorted.Count * 0.9))].Date;
            if (end > start)
            {
                result.AddRange(Counting(CountLabels(records.Where(r => r.Date >= start && r.Date <= end)), "timeline",
                    $"For the following question, only consider the subset of instances that occur between {OolongCorpus.FormatDate(start)} and {OolongCorpus.FormatDate(end)}, inclusive. Among instances occurring in this date range,"));
            }
        }

        // Per calendar month (month and year) comparisons.
        var byMonth = records.GroupBy(r => (r.Date.Year, r.Date.Month)).OrderBy(g => g.Key)
            .Select(g => (Key: g.Key, Counts: CountLabels(g))).ToList();
        var pairs = new List<(string A, string B)>();
        foreach (var a in OolongCorpus.Labels)
        {
            foreach (var b in OolongCorpus.Labels)
            {
                if (a != b)
                {
                    pairs.Add((a, b));
                }
            }
        }

        rng.Shuffle(pairs);
        foreach (var (a, b) in pairs.Take(4))
        {
            var months = byMonth.Count(m => m.Counts[a] > m.Counts[b]);
            result.Add(new("timeline", "months_label_more_frequent",
                $"For how many months does the label '{a}' occur more frequently than the label '{b}'? Disregard months where there is a tie. Give your final answer in the form 'Answer: [X]', where [X] is the number of months where '{a}' occurs more often than '{b}'.",
                Num(months), AnswerTypes.Numeric, false));
        }

        foreach (var (a, b) in pairs.Skip(4).Take(4))
        {
            var first = byMonth.FirstOrDefault(m => m.Counts[a] > m.Counts[b]);
            if (first.Counts is not null)
            {
                result.Add(new("timeline", "first_month_label_more_frequent",
                    $"In which month did the label '{a}' first occur more often than the label '{b}'? Give your final answer in the form 'Answer: [month] [year]', where [month] is the name of the month and [year] is the four-digit year where '{a}' first occurred more often than '{b}'.",
                    string.Create(CultureInfo.InvariantCulture, $"{MonthNames[first.Key.Month - 1]} {first.Key.Year}"), AnswerTypes.MonthYear, false));
            }
        }

        var singleLabels = OolongCorpus.Labels.ToList();
        rng.Shuffle(singleLabels);
        foreach (var label in singleLabels.Take(2))
        {
            var months = byMonth.Count(m => m.Counts.All(kv => kv.Key == label || kv.Value < m.Counts[label]));
            result.Add(new("timeline", "months_label_single_most_frequent",
                $"For how many months is the label '{label}' the single most frequently occurring label? Disregard months where there is a tie for the most common label. Give your final answer in the form 'Answer: [X]', where [X] is the number of months where '{label}' is the most common label.",
                Num(months), AnswerTypes.Numeric, false));
        }

        return result;
    }

    private static string Id(int user) => user.ToString(CultureInfo.InvariantCulture);

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string IsoDate(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
