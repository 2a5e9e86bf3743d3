using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Generation;

/// <summary>Settings of <see cref="TaskGenerator"/>.</summary>
public sealed class GeneratorSettings
{
    public NiahSettings Niah { get; init; } = new();

    /// <summary>How many OOLONG questions to ask about each generated context window.</summary>
    public int OolongQuestionsPerContext { get; init; } = 10;
}

/// <summary>Generates the tasks of one family. The same family, length, count and seed always give the same tasks.</summary>
public static class TaskGenerator
{
    public static IEnumerable<EvalTask> Generate(string family, int tokens, int count, long seed, GeneratorSettings? settings = null)
    {
        settings ??= new GeneratorSettings();
        return family switch
        {
            Families.SNiah or Families.SNiahDecoy => Enumerable.Range(0, count).Select(i => NiahGenerator.Generate(family, tokens, seed, i, settings.Niah)),
            Families.Oolong => Oolong(tokens, count, seed, settings.OolongQuestionsPerContext),
            Families.OolongPairs => Pairs(tokens, count, seed),
            Families.Logs => Enumerable.Range(0, count).Select(i => LogGenerator.Generate(tokens, seed, i)),
            _ => throw new ArgumentException($"Unknown family '{family}'. Known: {string.Join(", ", Families.All)}.", nameof(family)),
        };
    }

    private static IEnumerable<EvalTask> Oolong(int tokens, int count, long seed, int perContext)
    {
        var index = 0;
        for (var w = 0; index < count; w++)
        {
            var window = OolongCorpus.Generate(tokens, seed, w);
            var rng = DeterministicRandom.For(seed, "oolong-questions", w);
            var candidates = OolongQuestions.All(window.Records, rng);
            var chosen = OolongQuestions.Select(candidates, Math.Min(perContext, count - index), rng);
            if (chosen.Count == 0 && w > 1000)
            {
                throw new InvalidOperationException("The OOLONG generator produced no questions; the context is too short.");
            }

            foreach (var q in chosen)
            {
                yield return new EvalTask
                {
                    Id = TaskIds.Make(Families.Oolong, tokens, seed, index),
                    Family = Families.Oolong,
                    TargetTokens = tokens,
                    Seed = seed,
                    ContextId = window.ContextId,
                    ContextChars = window.Text.Length,
                    Context = window.Text,
                    Question = OolongCorpus.Header(window.Records.Count) + " Answer the following: " + q.Question,
                    Gold = q.Gold,
                    AnswerType = q.AnswerType,
                    Metadata = new()
                    {
                        ["kind"] = q.Kind,
                        ["group"] = q.Group,
                        ["input_subset"] = q.InputSubset,
                        ["window"] = w,
                        ["lines"] = window.Records.Count,
                    },
                };
                index++;
            }
        }
    }

    private static IEnumerable<EvalTask> Pairs(int tokens, int count, long seed)
    {
        OolongWindow? window = null;
        for (var index = 0; index < count; index++)
        {
            var w = index / OolongPairs.Queries.Count;
            if (window is null || window.ContextId != OolongCorpus.ContextId(tokens, seed, w))
            {
                window = OolongCorpus.Generate(tokens, seed, w);
            }

            var query = OolongPairs.Queries[index % OolongPairs.Queries.Count];
            var gold = OolongPairs.Gold(query, window.Records);
            yield return new EvalTask
            {
                Id = TaskIds.Make(Families.OolongPairs, tokens, seed, index),
                Family = Families.OolongPairs,
                TargetTokens = tokens,
                Seed = seed,
                ContextId = window.ContextId,
                ContextChars = window.Text.Length,
                Context = window.Text,
                Question = query.Text,
                Gold = OolongPairs.FormatPairs(gold),
                AnswerType = AnswerTypes.Pairs,
                Metadata = new()
                {
                    ["kind"] = "task" + query.Number.ToString("D2", System.Globalization.CultureInfo.InvariantCulture),
                    ["task_number"] = query.Number,
                    ["gold_pairs"] = gold.Count,
                    ["window"] = w,
                    ["lines"] = window.Records.Count,
                    ["users"] = window.Records.Select(r => r.User).Distinct().Count(),
                },
            };
        }
    }
}
