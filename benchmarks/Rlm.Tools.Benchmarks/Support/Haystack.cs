using System.Globalization;
using System.Text;

namespace Rlm.Tools.Benchmarks.Support;

/// <summary>
/// Deterministic synthetic contexts: log-like lines of about 110 characters (2 % of them <c>ERROR</c>), optionally with one
/// needle line. Same arguments, same string, on every machine (a seeded <see cref="Random"/>).
/// </summary>
/// <remarks>
/// The haystack has no hyphen outside its timestamps and never holds the words of <see cref="NeedleQuestion"/>, so the
/// needle's grep patterns (<see cref="NeedleLiteral"/>, <see cref="NeedleRegex"/>) match exactly one line.
/// </remarks>
public static class Haystack
{
    /// <summary>The needle line.</summary>
    public const string NeedleLine = "NOTE: the secret launch code is AZURE-PELICAN-7731, keep it safe.";

    /// <summary>The needle's unique value.</summary>
    public const string NeedleValue = "AZURE-PELICAN-7731";

    /// <summary>A literal pattern matching only the needle line (grep is case-insensitive by default).</summary>
    public const string NeedleLiteral = "AZURE-PELICAN-7731";

    /// <summary>A regular expression matching only the needle line, with no literal prefix the regex engine could search for.</summary>
    public const string NeedleRegex = @"\b[a-z]{5}-[a-z]{7}-\d{4}\b";

    /// <summary>A literal pattern matching about 2 % of the lines.</summary>
    public const string CommonLiteral = "ERROR";

    /// <summary>A question whose keywords (secret, launch, code) occur only on the needle line.</summary>
    public const string NeedleQuestion = "What is the secret launch code?";

    private static readonly string[] s_services = ["auth", "billing", "catalog", "checkout", "gateway", "inventory", "search", "shipping", "users", "media"];
    private static readonly string[] s_verbs = ["GET", "POST", "PUT", "DELETE"];
    private static readonly string[] s_resources = ["orders", "items", "carts", "accounts", "invoices", "sessions", "reviews", "images"];
    private static readonly string[] s_outcomes = ["ok", "ok", "ok", "ok", "slow", "retried", "cached", "throttled"];

    /// <summary>Creates a context of exactly <paramref name="chars"/> characters.</summary>
    /// <param name="chars">The length in characters.</param>
    /// <param name="withNeedle">Whether to put <see cref="NeedleLine"/> on the line at <paramref name="needleAt"/> of the text.</param>
    /// <param name="needleAt">Where the needle goes, as a fraction of the length.</param>
    /// <param name="seed">The seed of the line generator.</param>
    public static string Create(int chars, bool withNeedle = true, double needleAt = 0.61, int seed = 42)
    {
        var random = new Random(seed);
        var text = new StringBuilder(chars + 256);
        int needleOffset = withNeedle ? (int)(chars * needleAt) : -1;
        var time = new DateTime(2025, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        long request = 1;
        while (text.Length < chars)
        {
            if (needleOffset >= 0 && text.Length >= needleOffset)
            {
                text.Append(NeedleLine).Append('\n');
                needleOffset = -1;
                continue;
            }

            time = time.AddMilliseconds(random.Next(1, 250));
            int roll = random.Next(100);
            string level = roll < 2 ? "ERROR" : roll < 9 ? "WARN" : "INFO";
            text.Append(CultureInfo.InvariantCulture,
                $"{time:yyyy-MM-ddTHH:mm:ss.fff}Z {level} [{s_services[random.Next(s_services.Length)]}] request {request++:D8} {s_verbs[random.Next(s_verbs.Length)]} /api/{s_resources[random.Next(s_resources.Length)]}/{random.Next(100_000)} took {random.Next(1, 2_000)} ms user=u{random.Next(100_000):D5} {s_outcomes[random.Next(s_outcomes.Length)]}\n");
        }

        text.Length = chars;
        return text.ToString();
    }

    /// <summary>Splits a context into <paramref name="count"/> documents named <c>logs/part-NNNN.log</c> (cut at line breaks where possible).</summary>
    public static RlmDocument[] Split(string text, int count)
    {
        var documents = new RlmDocument[count];
        int start = 0;
        for (int i = 0; i < count; i++)
        {
            int end = i == count - 1 ? text.Length : (int)((long)text.Length * (i + 1) / count);
            if (i < count - 1)
            {
                int lineBreak = text.IndexOf('\n', end);
                end = lineBreak < 0 ? text.Length : lineBreak + 1;
            }

            documents[i] = new RlmDocument($"logs/part-{i:D4}.log", text[start..end]);
            start = end;
        }

        return documents;
    }

    /// <summary>Counts lines the way the engine does: a final line break does not start a new line.</summary>
    public static int LineCount(string text)
    {
        int count = text.AsSpan().Count('\n') + 1;
        return text.Length > 0 && text[^1] == '\n' ? count - 1 : count;
    }
}
