using System.Globalization;
using System.Text.RegularExpressions;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Tests;

/// <summary>
/// Recomputes every gold answer from the generated text alone — the context and the question — with code written
/// separately from the generators (labels come from <see cref="LabelOracle"/>, not from the generator's records).
/// </summary>
public class IndependentGroundTruthTests
{
    private static readonly Regex s_needle = new(@"One of the special magic (numbers|uuids) for ([a-z]+-[a-z]+) is: ([0-9a-f-]+)\.", RegexOptions.CultureInvariant);

    [Theory]
    [InlineData(Families.SNiah)]
    [InlineData(Families.SNiahDecoy)]
    public void Niah_gold_is_the_value_of_the_one_needle_with_the_asked_key(string family)
    {
        foreach (var task in TestSupport.Tasks(family))
        {
            var key = Regex.Match(task.Question, @"special magic \w+ for ([a-z]+-[a-z]+) mentioned").Groups[1].Value;
            var needles = s_needle.Matches(task.Context!).ToList();
            var withKey = needles.Where(m => m.Groups[2].Value == key).ToList();
            Assert.Single(withKey);
            Assert.Equal(task.Gold, withKey[0].Groups[3].Value);
            Assert.Equal(family == Families.SNiahDecoy ? 9 : 1, needles.Count);

            // The needle sits at its stated depth of the haystack (within a sentence or two), decoys aside.
            var depth = (int)task.Metadata["depth_percent"]!;
            var haystack = task.Context!;
            foreach (var decoy in needles.Where(n => n.Groups[2].Value != key))
            {
                haystack = haystack.Replace(decoy.Value + " ", "", StringComparison.Ordinal);
            }

            var position = 100.0 * haystack.IndexOf(withKey[0].Value, StringComparison.Ordinal) / haystack.Length;
            Assert.InRange(position, depth - 3, depth + 3);
        }
    }

    [Fact]
    public void Oolong_every_line_has_exactly_one_label_by_its_text()
    {
        foreach (var context in TestSupport.Tasks(Families.Oolong).Select(t => t.Context!).Distinct())
        {
            Assert.NotEmpty(ContextParser.Oolong(context)); // LabelOracle.Label asserts exactly one matching label per line
        }
    }

    [Fact]
    public void Oolong_gold_answers_agree_with_an_independent_solver()
    {
        var tasks = TestSupport.Tasks(Families.Oolong, count: 60).Concat(TestSupport.Tasks(Families.Oolong, count: 30, tokens: 8192)).ToList();
        var kinds = new HashSet<string>();
        foreach (var task in tasks)
        {
            var lines = ContextParser.Oolong(task.Context!);
            var question = task.Question[(task.Question.IndexOf("Answer the following: ", StringComparison.Ordinal) + "Answer the following: ".Length)..];
            var answer = OolongSolver.Solve(lines, question);
            Assert.True(answer == task.Gold, $"{task.Id} ({task.Metadata["kind"]}): solver says '{answer}', gold is '{task.Gold}'\n{question}");
            kinds.Add(task.Metadata["kind"]!.ToString());
        }

        Assert.True(kinds.Count >= 14, "only these kinds were checked: " + string.Join(", ", kinds));
    }

    [Fact]
    public void Pairs_gold_sets_agree_with_an_independent_implementation_of_the_twenty_conditions()
    {
        var tasks = TestSupport.Tasks(Families.OolongPairs).Concat(TestSupport.Tasks(Families.OolongPairs, count: 20, tokens: 8192)).ToList();
        var nonEmpty = 0;
        foreach (var task in tasks)
        {
            var lines = ContextParser.Oolong(task.Context!);
            var number = int.Parse(Regex.Match(task.Id, @"-(\d{4})$").Groups[1].Value, CultureInfo.InvariantCulture) % 20 + 1;
            var expected = PairsOracle.Pairs(number, lines);
            var gold = Scoring.PairsScorer.ParsePairs(task.Gold).Select(p => ((int)p.A, (int)p.B)).ToHashSet();
            Assert.True(expected.SetEquals(gold), $"{task.Id} task {number}: {expected.Count} expected pairs, gold has {gold.Count}");
            if (gold.Count > 0)
            {
                nonEmpty++;
            }
        }

        Assert.True(nonEmpty >= 20, $"only {nonEmpty} of {tasks.Count} pair tasks have a non-empty gold set");
    }

    [Fact]
    public void Log_gold_answers_agree_with_an_independent_solver()
    {
        var tasks = TestSupport.Tasks(Families.Logs, count: 21).Concat(TestSupport.Tasks(Families.Logs, count: 7, tokens: 8192)).ToList();
        foreach (var task in tasks)
        {
            Assert.Equal(task.Gold, LogSolver.Solve(task.Context!, task.Question));
        }
    }
}

/// <summary>Answers OOLONG questions from parsed lines, reading the question text.</summary>
internal static class OolongSolver
{
    private static readonly string[] Months = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];
    private static readonly string[] AllLabels = ["description and abstract concept", "entity", "human being", "numeric value", "location", "abbreviation"];

    public static string Solve(List<ParsedLine> lines, string question)
    {
        var q = question;
        Match m;

        // Subset prefixes.
        if ((m = Regex.Match(q, @"^For the following question, only consider the subset of instances that occur in (\w+) of any year\. Among instances occurring in \w+, (.*)$")).Success)
        {
            var month = Array.IndexOf(Months, m.Groups[1].Value) + 1;
            return Body(lines.Where(l => l.Date.Month == month).ToList(), m.Groups[2].Value);
        }

        if ((m = Regex.Match(q, @"^For the following question, only consider the subset of instances that occur between (\w{3} \d{2}, \d{4}) and (\w{3} \d{2}, \d{4}), inclusive\. Among instances occurring in this date range, (.*)$")).Success)
        {
            var from = Date(m.Groups[1].Value);
            var to = Date(m.Groups[2].Value);
            return Body(lines.Where(l => l.Date >= from && l.Date <= to).ToList(), m.Groups[3].Value);
        }

        if ((m = Regex.Match(q, @"^For the following question, only consider the subset of (?:instances that are associated with user IDs|users with IDs) ([\d, ]+)\. Among (?:instances associated with these users|these users), (.*)$")).Success)
        {
            var users = m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet();
            return Body(lines.Where(l => users.Contains(l.User)).ToList(), m.Groups[2].Value);
        }

        if (q.StartsWith("In the above data, ", StringComparison.Ordinal))
        {
            return Body(lines, q["In the above data, ".Length..]);
        }

        return Whole(lines, q);
    }

    private static string Body(List<ParsedLine> lines, string q)
    {
        Match m;
        var counts = AllLabels.ToDictionary(l => l, l => lines.Count(x => x.Label == l));
        if (q.StartsWith("which of the labels is the most common?", StringComparison.Ordinal))
        {
            return counts.MaxBy(kv => kv.Value).Key;
        }

        if (q.StartsWith("which of the labels is the least common?", StringComparison.Ordinal))
        {
            return counts.MinBy(kv => kv.Value).Key;
        }

        if ((m = Regex.Match(q, @"^is label '([^']+)' more common, less common, or the same frequency as label '([^']+)'\?")).Success)
        {
            var a = counts[m.Groups[1].Value];
            var b = counts[m.Groups[2].Value];
            return a > b ? "more common than" : a < b ? "less common than" : "same frequency as";
        }

        if ((m = Regex.Match(q, @"^how many data points should be classified as label '([^']+)'\?")).Success)
        {
            return counts[m.Groups[1].Value].ToString(CultureInfo.InvariantCulture);
        }

        if (q.StartsWith("which user is represented most often?", StringComparison.Ordinal))
        {
            return RankUsers(lines)[0].ToString(CultureInfo.InvariantCulture);
        }

        if (q.StartsWith("which user is represented the second most often?", StringComparison.Ordinal))
        {
            return RankUsers(lines)[1].ToString(CultureInfo.InvariantCulture);
        }

        if ((m = Regex.Match(q, @"^which user has the most instances with the label ([a-z ]+)\?")).Success)
        {
            return RankUsers(lines.Where(l => l.Label == m.Groups[1].Value).ToList())[0].ToString(CultureInfo.InvariantCulture);
        }

        if ((m = Regex.Match(q, @"^which user has more instances with the label ([a-z ]+): User (\d+) or User (\d+)\?")).Success)
        {
            var label = m.Groups[1].Value;
            var a = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            var b = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            return (lines.Count(l => l.User == a && l.Label == label) > lines.Count(l => l.User == b && l.Label == label) ? a : b).ToString(CultureInfo.InvariantCulture);
        }

        if (q.StartsWith("which date is represented most often?", StringComparison.Ordinal))
        {
            return RankDates(lines)[0].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        if (q.StartsWith("which date is represented the second most often?", StringComparison.Ordinal))
        {
            return RankDates(lines)[1].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        if ((m = Regex.Match(q, @"^how many dates are represented exactly (\d+) times\?")).Success)
        {
            var n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return lines.GroupBy(l => l.Date).Count(g => g.Count() == n).ToString(CultureInfo.InvariantCulture);
        }

        if ((m = Regex.Match(q, @"^was label '([^']+)' more common, less common, or the same frequency before (\w{3} \d{2}, \d{4}), as compared to after")).Success)
        {
            var label = m.Groups[1].Value;
            var pivot = Date(m.Groups[2].Value);
            var before = lines.Where(l => l.Date < pivot).ToList();
            var after = lines.Where(l => l.Date > pivot).ToList();
            var fb = before.Count(l => l.Label == label) / (double)before.Count;
            var fa = after.Count(l => l.Label == label) / (double)after.Count;
            return fb > fa ? "more common" : fb < fa ? "less common" : "the same frequency";
        }

        throw new InvalidOperationException("Unrecognised question: " + q);
    }

    private static string Whole(List<ParsedLine> lines, string q)
    {
        Match m;
        var months = lines.GroupBy(l => (l.Date.Year, l.Date.Month)).OrderBy(g => g.Key).ToList();
        if ((m = Regex.Match(q, @"^For how many months does the label '([^']+)' occur more frequently than the label '([^']+)'\?")).Success)
        {
            return months.Count(g => g.Count(l => l.Label == m.Groups[1].Value) > g.Count(l => l.Label == m.Groups[2].Value)).ToString(CultureInfo.InvariantCulture);
        }

        if ((m = Regex.Match(q, @"^In which month did the label '([^']+)' first occur more often than the label '([^']+)'\?")).Success)
        {
            var first = months.First(g => g.Count(l => l.Label == m.Groups[1].Value) > g.Count(l => l.Label == m.Groups[2].Value)).Key;
            return Months[first.Month - 1] + " " + first.Year.ToString(CultureInfo.InvariantCulture);
        }

        if ((m = Regex.Match(q, @"^For how many months is the label '([^']+)' the single most frequently occurring label\?")).Success)
        {
            var label = m.Groups[1].Value;
            return months.Count(g =>
            {
                var mine = g.Count(l => l.Label == label);
                return AllLabels.Where(o => o != label).All(o => g.Count(l => l.Label == o) < mine);
            }).ToString(CultureInfo.InvariantCulture);
        }

        throw new InvalidOperationException("Unrecognised question: " + q);
    }

    private static List<int> RankUsers(List<ParsedLine> lines) =>
        lines.GroupBy(l => l.User).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => g.Key).ToList();

    private static List<DateOnly> RankDates(List<ParsedLine> lines) =>
        lines.GroupBy(l => l.Date).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => g.Key).ToList();

    private static DateOnly Date(string text) => DateOnly.ParseExact(text, "MMM dd, yyyy", CultureInfo.InvariantCulture);
}

/// <summary>The 20 OOLONG-Pairs conditions (RLM paper, Appendix D.1), written out again from the query texts.</summary>
internal static class PairsOracle
{
    private const string Desc = "description and abstract concept", Ent = "entity", Hum = "human being", Num = "numeric value", Loc = "location", Abbr = "abbreviation";

    public static HashSet<(int, int)> Pairs(int task, List<ParsedLine> lines)
    {
        var users = lines.Select(l => l.User).Distinct().Order().ToList();
        int N(int u, string label) => lines.Count(l => l.User == u && l.Label == label);
        bool All(int u, string label, Func<DateOnly, bool> ok) => lines.Where(l => l.User == u && l.Label == label).All(l => ok(l.Date));
        bool Has(int u, string a, string b) => N(u, a) > 0 || N(u, b) > 0;

        Func<int, bool> one;
        Func<int, bool>? other = null;
        switch (task)
        {
            case 1: one = u => Has(u, Num, Loc); break;
            case 2: one = u => Has(u, Ent, Hum); break;
            case 3: one = u => Has(u, Desc, Abbr); break;
            case 4: one = u => Has(u, Hum, Loc) && All(u, Hum, d => d > new DateOnly(2023, 1, 6)); break;
            case 5: one = u => Has(u, Ent, Num) && All(u, Ent, d => d < new DateOnly(2023, 3, 15)); break;
            case 6: one = u => Has(u, Loc, Abbr); break;
            case 7: one = u => Has(u, Desc, Num) && All(u, Num, d => d > new DateOnly(2023, 2, 1)); break;
            case 8: one = u => Has(u, Hum, Desc); break;
            case 9: one = u => Has(u, Ent, Loc) && All(u, Loc, d => d > new DateOnly(2023, 4, 10)); break;
            case 10: one = u => Has(u, Num, Abbr) && All(u, Abbr, d => d < new DateOnly(2023, 5, 20)); break;
            case 11: one = u => N(u, Ent) >= 1 && N(u, Abbr) >= 1; other = u => N(u, Ent) == 1; break;
            case 12: one = u => N(u, Num) >= 2; other = u => N(u, Loc) >= 1 && N(u, Hum) >= 1; break;
            case 13: one = u => N(u, Desc) == 1; other = u => N(u, Abbr) >= 1 && N(u, Ent) >= 1; break;
            case 14: one = u => N(u, Hum) >= 1 && N(u, Num) >= 1; other = u => N(u, Loc) == 2; break;
            case 15: one = u => N(u, Ent) >= 1 && N(u, Loc) >= 1 && N(u, Abbr) >= 1; other = u => N(u, Num) == 1; break;
            case 16: one = u => N(u, Desc) >= 1 && N(u, Hum) >= 1; other = u => N(u, Ent) >= 2 && N(u, Abbr) == 1; break;
            case 17: one = u => N(u, Num) == 1; other = u => N(u, Loc) >= 1 && N(u, Desc) >= 1; break;
            case 18: one = u => N(u, Abbr) >= 1 && N(u, Hum) == 1; other = u => N(u, Ent) >= 1 && N(u, Num) >= 1; break;
            case 19: one = u => N(u, Loc) >= 2 && N(u, Ent) >= 1; other = u => N(u, Desc) == 1 && N(u, Abbr) == 1; break;
            case 20: one = u => N(u, Num) >= 1 && N(u, Hum) >= 1; other = u => N(u, Loc) >= 1 && N(u, Ent) >= 1 && N(u, Abbr) == 1; break;
            default: throw new ArgumentOutOfRangeException(nameof(task));
        }

        var set = new HashSet<(int, int)>();
        foreach (var a in users)
        {
            foreach (var b in users)
            {
                if (a < b && (other is null ? one(a) && one(b) : (one(a) && other(b)) || (one(b) && other(a))))
                {
                    set.Add((a, b));
                }
            }
        }

        return set;
    }
}

/// <summary>Answers log questions by parsing the log lines and the question text.</summary>
internal static class LogSolver
{
    private sealed record Entry(DateTime Time, string User, long Amount, string Status);

    public static string Solve(string context, string question)
    {
        var entries = context.Split('\n').Where(l => !l.StartsWith('#'))
            .Select(l => Regex.Match(l, @"^(\S+)Z txn=\d+ user=(u\d+) amount=(\d+) status=(\w+)$"))
            .Select(m =>
            {
                Assert.True(m.Success);
                return new Entry(DateTime.ParseExact(m.Groups[1].Value, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture), m.Groups[2].Value, long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), m.Groups[4].Value);
            })
            .ToList();

        var window = Regex.Match(question, @"at or after (\S+)Z and before (\S+)Z");
        var inWindow = entries;
        if (window.Success)
        {
            var from = DateTime.ParseExact(window.Groups[1].Value, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
            var to = DateTime.ParseExact(window.Groups[2].Value, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
            inWindow = entries.Where(e => e.Time >= from && e.Time < to).ToList();
        }

        Match m;
        if (question.StartsWith("What is the total amount of the transactions with status=ok", StringComparison.Ordinal))
        {
            return inWindow.Where(e => e.Status == "ok").Sum(e => e.Amount).ToString(CultureInfo.InvariantCulture);
        }

        if ((m = Regex.Match(question, @"^How many transactions with status=(\w+) are there")).Success)
        {
            return inWindow.Count(e => e.Status == m.Groups[1].Value).ToString(CultureInfo.InvariantCulture);
        }

        if (question.StartsWith("How many distinct users", StringComparison.Ordinal))
        {
            return inWindow.Select(e => e.User).Distinct().Count().ToString(CultureInfo.InvariantCulture);
        }

        if ((m = Regex.Match(question, @"^Which (\d) users have the highest total amount")).Success)
        {
            var k = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var totals = new Dictionary<string, long>();
            foreach (var e in entries.Where(e => e.Status == "ok"))
            {
                totals[e.User] = totals.GetValueOrDefault(e.User) + e.Amount;
            }

            return string.Join(", ", totals.OrderBy(kv => -kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(k).Select(kv => kv.Key));
        }

        if ((m = Regex.Match(question, @"status=ok by user (u\d+) in the whole log")).Success)
        {
            return entries.Where(e => e.User == m.Groups[1].Value && e.Status == "ok").Sum(e => e.Amount).ToString(CultureInfo.InvariantCulture);
        }

        if (question.StartsWith("What is the largest single amount", StringComparison.Ordinal))
        {
            return (inWindow.Count == 0 ? 0 : inWindow.Max(e => e.Amount)).ToString(CultureInfo.InvariantCulture);
        }

        if (question.StartsWith("In which clock hour", StringComparison.Ordinal))
        {
            return entries.GroupBy(e => e.Time.ToString("yyyy-MM-ddTHH", CultureInfo.InvariantCulture))
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        }

        throw new InvalidOperationException("Unrecognised question: " + question);
    }
}
