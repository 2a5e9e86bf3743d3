using System.Globalization;
using System.Text;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Generation;

/// <summary>One transaction line of a log context.</summary>
public sealed record LogEntry(DateTime Timestamp, int Txn, string User, int Amount, string Status)
{
    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"{Timestamp:yyyy-MM-ddTHH:mm:ss}Z txn={Txn:D6} user={User} amount={Amount} status={Status}");
}

/// <summary>
/// The log-aggregation control family: structured payment-log lines (timestamp, user, amount, status) and questions
/// (sums, counts, top-k, distinct counts, maxima in a time window) that code alone answers exactly. It measures the
/// tools and <c>exec_js</c> rather than a model's semantic judgement.
/// </summary>
public static class LogGenerator
{
    public const string Header = "# payment log, one transaction per line: <timestamp UTC> txn=<id> user=<id> amount=<integer> status=<ok|failed|refunded>";

    public static readonly string[] Kinds =
        ["sum_ok_window", "count_status_window", "distinct_users_window", "top_k_users", "user_total", "max_amount_window", "busiest_hour"];

    private const string AnswerForm = " Give your final answer in the form 'Answer: [X]'.";

    public static string FormatTime(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + "Z";

    public static (List<LogEntry> Entries, string Text) GenerateLog(DeterministicRandom rng, int tokens)
    {
        var targetChars = TokenMath.TargetChars(tokens);
        var budget = targetChars - Header.Length - 1;
        var estimatedLines = Math.Max(1, budget / 66);
        var poolSize = Math.Clamp(estimatedLines / 8, 10, 3000);
        var ids = new HashSet<int>();
        var users = new List<string>();
        while (users.Count < poolSize)
        {
            var id = rng.NextInclusive(1000, 9999);
            if (ids.Add(id))
            {
                users.Add("u" + id.ToString(CultureInfo.InvariantCulture));
            }
        }

        var time = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(rng.Next(300)).AddSeconds(rng.Next(86_400));
        var entries = new List<LogEntry>();
        var sb = new StringBuilder(targetChars);
        sb.Append(Header).Append('\n');
        var txn = rng.NextInclusive(1, 50_000);
        while (true)
        {
            time = time.AddSeconds(rng.NextInclusive(1, 120));
            var u = rng.NextDouble();
            var user = users[(int)(users.Count * u * u)];
            var amount = (int)Math.Round(Math.Exp(rng.NextDouble() * Math.Log(5000)));
            var statusDraw = rng.NextDouble();
            var status = statusDraw < 0.80 ? "ok" : statusDraw < 0.92 ? "failed" : "refunded";
            var entry = new LogEntry(time, txn++, user, amount, status);
            var line = entry.Line;
            if (sb.Length + line.Length + 1 > targetChars)
            {
                break;
            }

            sb.Append(line).Append('\n');
            entries.Add(entry);
        }

        return (entries, sb.ToString().TrimEnd('\n'));
    }

    public static EvalTask Generate(int tokens, long seed, int index)
    {
        var rng = DeterministicRandom.For(seed, Families.Logs, index);
        var (entries, text) = GenerateLog(rng, tokens);
        var kinds = Kinds.ToArray();
        DeterministicRandom.For(seed, Families.Logs + "/kinds", 0).Shuffle(kinds);
        var kind = kinds[index % kinds.Length];
        var (question, gold, answerType) = Ask(kind, entries, rng);
        var id = TaskIds.Make(Families.Logs, tokens, seed, index);
        return new EvalTask
        {
            Id = id,
            Family = Families.Logs,
            TargetTokens = tokens,
            Seed = seed,
            ContextId = id,
            ContextChars = text.Length,
            Context = text,
            Question = question,
            Gold = gold,
            AnswerType = answerType,
            Metadata = new()
            {
                ["kind"] = kind,
                ["lines"] = entries.Count,
                ["users"] = entries.Select(e => e.User).Distinct().Count(),
            },
        };
    }

    private static (string Question, string Gold, string AnswerType) Ask(string kind, List<LogEntry> entries, DeterministicRandom rng)
    {
        var (start, end) = Window(entries, rng);
        var window = entries.Where(e => e.Timestamp >= start && e.Timestamp < end).ToList();
        var range = $"with a timestamp at or after {FormatTime(start)} and before {FormatTime(end)}";
        switch (kind)
        {
            case "sum_ok_window":
                return ($"What is the total amount of the transactions with status=ok {range}?" + AnswerForm,
                    Num(window.Where(e => e.Status == "ok").Sum(e => (long)e.Amount)), AnswerTypes.Number);
            case "count_status_window":
            {
                var status = rng.Pick(new[] { "failed", "refunded" });
                return ($"How many transactions with status={status} are there {range}?" + AnswerForm,
                    Num(window.Count(e => e.Status == status)), AnswerTypes.Number);
            }

            case "distinct_users_window":
                return ($"How many distinct users made at least one transaction (any status) {range}?" + AnswerForm,
                    Num(window.Select(e => e.User).Distinct().Count()), AnswerTypes.Number);
            case "top_k_users":
            {
                var k = rng.NextInclusive(3, 5);
                var top = TotalsByUser(entries).Take(k).Select(x => x.User);
                return ($"Which {k} users have the highest total amount over transactions with status=ok in the whole log? " +
                        "List their user ids from the highest total to the lowest, separated by commas (break ties by the lower user id)." + AnswerForm,
                    string.Join(", ", top), AnswerTypes.OrderedList);
            }

            case "user_total":
            {
                var user = rng.Pick(entries).User;
                return ($"What is the total amount of all transactions with status=ok by user {user} in the whole log?" + AnswerForm,
                    Num(entries.Where(e => e.User == user && e.Status == "ok").Sum(e => (long)e.Amount)), AnswerTypes.Number);
            }

            case "max_amount_window":
                return ($"What is the largest single amount among the transactions (any status) {range}?" + AnswerForm,
                    Num(window.Count == 0 ? 0 : window.Max(e => e.Amount)), AnswerTypes.Number);
            case "busiest_hour":
            {
                var busiest = entries.GroupBy(e => new DateTime(e.Timestamp.Year, e.Timestamp.Month, e.Timestamp.Day, e.Timestamp.Hour, 0, 0, DateTimeKind.Utc))
                    .OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
                return ("In which clock hour (UTC) were the most transactions (any status) logged? If several hours tie, give the earliest. " +
                        "Write the hour as YYYY-MM-DDTHH, for example 2024-03-05T14." + AnswerForm,
                    busiest.ToString("yyyy-MM-ddTHH", CultureInfo.InvariantCulture), AnswerTypes.Text);
            }

            default:
                throw new InvalidOperationException($"Unknown log question kind '{kind}'.");
        }
    }

    /// <summary>Users by total ok amount, highest first, ties by the lower user id (ordinal).</summary>
    public static List<(string User, long Total)> TotalsByUser(IEnumerable<LogEntry> entries) =>
        entries.Where(e => e.Status == "ok").GroupBy(e => e.User).Select(g => (User: g.Key, Total: g.Sum(e => (long)e.Amount)))
            .OrderByDescending(x => x.Total).ThenBy(x => x.User, StringComparer.Ordinal).ToList();

    private static (DateTime Start, DateTime End) Window(List<LogEntry> entries, DeterministicRandom rng)
    {
        if (entries.Count < 2)
        {
            var t = entries.Count == 0 ? new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc) : entries[0].Timestamp;
            return (Minute(t), Minute(t).AddHours(1));
        }

        var i = rng.NextInclusive((int)(entries.Count * 0.1), (int)(entries.Count * 0.6));
        var j = rng.NextInclusive(Math.Min(entries.Count - 1, i + 1), (int)(entries.Count * 0.9));
        var start = Minute(entries[i].Timestamp);
        var end = Minute(entries[Math.Max(i, j)].Timestamp);
        if (end <= start)
        {
            end = start.AddMinutes(30);
        }

        return (start, end);
    }

    private static DateTime Minute(DateTime t) => new(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, DateTimeKind.Utc);

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
