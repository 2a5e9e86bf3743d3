using System.Globalization;
using System.Text.RegularExpressions;
using Rlm.Tools.Eval.Generation;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Tests;

/// <summary>Shared helpers: small task sets, gold answers phrased as a model would, a temp directory.</summary>
internal static class TestSupport
{
    public const int SmallTokens = 2048;

    private static readonly Dictionary<string, List<EvalTask>> s_cache = new();

    /// <summary>A small, cached task set per family (generation is deterministic, so sharing is safe).</summary>
    public static List<EvalTask> Tasks(string family, int count = 0, int tokens = SmallTokens, long seed = 7)
    {
        if (count == 0)
        {
            count = family switch { Families.Oolong => 40, Families.OolongPairs => 20, _ => 12 };
        }

        var key = string.Create(CultureInfo.InvariantCulture, $"{family}/{count}/{tokens}/{seed}");
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(key, out var tasks))
            {
                tasks = TaskGenerator.Generate(family, tokens, count, seed).ToList();
                s_cache[key] = tasks;
            }

            return tasks;
        }
    }

    /// <summary>The gold answer in the form the question asks for.</summary>
    public static string GoldAnswer(EvalTask task) => task.AnswerType switch
    {
        AnswerTypes.Label => "Label: " + task.Gold,
        AnswerTypes.User => "User: " + task.Gold,
        AnswerTypes.Date => "Date: " + DateOnly.ParseExact(task.Gold, "yyyy-MM-dd", CultureInfo.InvariantCulture).ToString("MM/dd/yyyy", CultureInfo.InvariantCulture),
        AnswerTypes.Pairs => task.Gold,
        _ => "Answer: " + task.Gold,
    };

    public static string TempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "rlm-eval-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>
/// Recovers an OOLONG line's label from its text alone, by matching the published per-label templates
/// (slots become wildcards). Used to recompute ground truth without the generator's bookkeeping.
/// </summary>
internal static class LabelOracle
{
    private static readonly List<(string Label, Regex Pattern)> s_patterns = OolongCorpus.Templates
        .SelectMany(kv => kv.Value.Select(t => (kv.Key, new Regex("^" + Regex.Replace(Regex.Escape(t), @"\\\{[A-Za-z]+}", "(.+?)") + "$", RegexOptions.CultureInvariant))))
        .ToList();

    /// <summary>The labels whose templates match <paramref name="instance"/> (exactly one for a well-formed line).</summary>
    public static List<string> Matching(string instance) =>
        s_patterns.Where(p => p.Pattern.IsMatch(instance)).Select(p => p.Label).Distinct().ToList();

    public static string Label(string instance)
    {
        var labels = Matching(instance);
        Assert.True(labels.Count == 1, $"'{instance}' matches {labels.Count} labels: {string.Join(", ", labels)}");
        return labels[0];
    }
}

/// <summary>One OOLONG line as parsed back from the context text.</summary>
internal sealed record ParsedLine(DateOnly Date, int User, string Instance, string Label);

internal static class ContextParser
{
    private static readonly Regex s_line = new(@"^Date: ([A-Z][a-z]{2} \d{2}, \d{4}) \|\| User: (\d{5}) \|\| Instance: (.+)$", RegexOptions.CultureInvariant);
    private static readonly Regex s_header = new(@"^The following lines contain (\d+) general-knowledge questions", RegexOptions.CultureInvariant);

    /// <summary>Parses an OOLONG context; checks its header and footer state the line count.</summary>
    public static List<ParsedLine> Oolong(string context)
    {
        var lines = context.Split('\n');
        var header = s_header.Match(lines[0]);
        Assert.True(header.Success, "missing OOLONG header");
        Assert.StartsWith("Recall: the preceding lines contain " + header.Groups[1].Value + " general-knowledge questions", lines[^1]);
        var parsed = new List<ParsedLine>();
        foreach (var line in lines)
        {
            var m = s_line.Match(line);
            if (m.Success)
            {
                var date = DateOnly.ParseExact(m.Groups[1].Value, "MMM dd, yyyy", CultureInfo.InvariantCulture);
                var instance = m.Groups[3].Value;
                parsed.Add(new ParsedLine(date, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), instance, LabelOracle.Label(instance)));
            }
        }

        Assert.Equal(int.Parse(header.Groups[1].Value, CultureInfo.InvariantCulture), parsed.Count);
        return parsed;
    }
}
