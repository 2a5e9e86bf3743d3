using Rlm.Tools.Eval.Generation;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Tests;

public class GeneratorTests
{
    public static TheoryData<string> AllFamilies() => new(Families.All);

    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void Generation_is_deterministic_for_a_seed(string family)
    {
        var first = TaskGenerator.Generate(family, TestSupport.SmallTokens, 6, seed: 123).Select(Jsonl.Serialize).ToList();
        var second = TaskGenerator.Generate(family, TestSupport.SmallTokens, 6, seed: 123).Select(Jsonl.Serialize).ToList();
        var other = TaskGenerator.Generate(family, TestSupport.SmallTokens, 6, seed: 124).Select(Jsonl.Serialize).ToList();

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void Earlier_tasks_do_not_depend_on_the_count(string family)
    {
        var few = TaskGenerator.Generate(family, TestSupport.SmallTokens, 3, seed: 5).Select(Jsonl.Serialize).ToList();
        var many = TaskGenerator.Generate(family, TestSupport.SmallTokens, 25, seed: 5).Select(Jsonl.Serialize).Take(3).ToList();

        // OOLONG picks its questions per context window, so only the contexts are count-independent there.
        if (family == Families.Oolong)
        {
            Assert.Equal(
                TaskGenerator.Generate(family, TestSupport.SmallTokens, 3, seed: 5).First().Context,
                TaskGenerator.Generate(family, TestSupport.SmallTokens, 25, seed: 5).First().Context);
        }
        else
        {
            Assert.Equal(few, many);
        }
    }

    [Theory]
    [InlineData(Families.SNiah, 2048)]
    [InlineData(Families.Oolong, 2048)]
    [InlineData(Families.Logs, 2048)]
    [InlineData(Families.SNiah, 8192)]
    [InlineData(Families.OolongPairs, 8192)]
    public void Contexts_are_close_to_four_characters_per_token_and_never_longer(string family, int tokens)
    {
        foreach (var task in TaskGenerator.Generate(family, tokens, 3, seed: 11))
        {
            var target = tokens * 4;
            Assert.Equal(task.Context!.Length, task.ContextChars);
            Assert.InRange(task.ContextChars, target * 0.95, target);
            Assert.Equal(tokens, task.TargetTokens);
        }
    }

    [Fact]
    public void Task_ids_are_unique_across_families_and_lengths()
    {
        var ids = Families.All.SelectMany(f => new[] { 1024, 2048 }.SelectMany(t => TaskGenerator.Generate(f, t, 20, 1))).Select(t => t.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Niah_uses_the_forty_ruler_depths_and_covers_them()
    {
        Assert.Equal(40, NiahGenerator.Depths.Length);
        Assert.Equal(0, NiahGenerator.Depths[0]);
        Assert.Equal(100, NiahGenerator.Depths[^1]);
        Assert.Equal(3, NiahGenerator.Depths[1]);
        Assert.Equal(NiahGenerator.Depths.Order(), NiahGenerator.Depths);

        var depths = TaskGenerator.Generate(Families.SNiah, 1024, 40, 3).Select(t => (int)t.Metadata["depth_index"]!).ToHashSet();
        Assert.Equal(40, depths.Count);
    }

    [Fact]
    public void Niah_alternates_haystacks_and_value_types_by_default()
    {
        var tasks = TaskGenerator.Generate(Families.SNiah, 1024, 4, 3).ToList();
        Assert.Equal(["repeat", "prose", "repeat", "prose"], tasks.Select(t => t.Metadata["haystack"]!.ToString()));
        Assert.Equal(["number", "number", "uuid", "uuid"], tasks.Select(t => t.Metadata["value_type"]!.ToString()));
        Assert.Matches("^[1-9][0-9]{6}$", tasks[0].Gold);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", tasks[2].Gold);
        Assert.Contains("The grass is green. The sky is blue.", tasks[0].Context);
        Assert.DoesNotContain("The grass is green.", tasks[1].Context);
    }

    [Fact]
    public void Oolong_dates_users_and_labels_follow_the_specification()
    {
        var window = OolongCorpus.Generate(32_768, 9, 0);
        Assert.All(window.Records, r => Assert.InRange(r.Date, OolongCorpus.FirstDate, OolongCorpus.LastDate));
        Assert.All(window.Records, r => Assert.InRange(r.User, 10_000, 99_999));

        // Skewed users: the 10% most frequent ids hold most of the lines.
        var perUser = window.Records.GroupBy(r => r.User).Select(g => g.Count()).OrderDescending().ToList();
        var pool = Math.Clamp(window.Records.Count / 4, 8, 400);
        var topTenPercent = perUser.Take((int)Math.Round(pool * 0.1)).Sum();
        Assert.InRange(topTenPercent / (double)window.Records.Count, 0.7, 0.9);

        // Skewed labels: the most frequent label is clearly more frequent than the least frequent.
        var labelCounts = window.Records.GroupBy(r => r.Label).Select(g => g.Count()).OrderDescending().ToList();
        Assert.Equal(6, labelCounts.Count);
        Assert.True(labelCounts[0] > 2 * labelCounts[^1]);
    }

    [Fact]
    public void Oolong_and_pairs_share_contexts_for_the_same_seed_and_length()
    {
        var oolong = TaskGenerator.Generate(Families.Oolong, 2048, 1, 4).Single();
        var pairs = TaskGenerator.Generate(Families.OolongPairs, 2048, 1, 4).Single();
        Assert.Equal(oolong.ContextId, pairs.ContextId);
        Assert.Equal(oolong.Context, pairs.Context);
    }

    [Fact]
    public void Pairs_ask_the_twenty_queries_in_order()
    {
        var tasks = TestSupport.Tasks(Families.OolongPairs);
        Assert.Equal(Enumerable.Range(1, 20), tasks.Select(t => (int)t.Metadata["task_number"]!));
        Assert.All(tasks, t => Assert.StartsWith("In the above data, list all pairs of user IDs (no duplicate pairs, list lower ID first)", t.Question));
        Assert.All(tasks, t => Assert.EndsWith("In your answer, list all pairs in the format (user_id_1, user_id_2), separated by newlines.", t.Question));
    }

    [Fact]
    public void Oolong_questions_cover_the_counting_user_and_timeline_groups()
    {
        var groups = TestSupport.Tasks(Families.Oolong).Select(t => t.Metadata["group"]!.ToString()).ToHashSet();
        Assert.Equal(["counting", "timeline", "user"], groups.Order());
    }

    [Fact]
    public void Logs_ask_every_kind_of_question()
    {
        var kinds = TaskGenerator.Generate(Families.Logs, 1024, LogGenerator.Kinds.Length, 2).Select(t => t.Metadata["kind"]!.ToString()).ToHashSet();
        Assert.Equal(LogGenerator.Kinds.Order(), kinds.Order());
    }

    [Fact]
    public void Random_generator_is_stable_across_runtimes()
    {
        // xoshiro256** seeded through SplitMix64: these values come from an independent reference implementation,
        // so task files reproduce on every runtime and platform.
        var rng = new DeterministicRandom(42);
        Assert.Equal([0x15780b2e0c2ec716UL, 0x6104d9866d113a7eUL, 0xae17533239e499a1UL], Enumerable.Range(0, 3).Select(_ => rng.NextUInt64()).ToArray());
        Assert.Equal(DeterministicRandom.For(1, "x", 2).NextUInt64(), DeterministicRandom.For(1, "x", 2).NextUInt64());
        Assert.NotEqual(DeterministicRandom.For(1, "x", 2).NextUInt64(), DeterministicRandom.For(1, "x", 3).NextUInt64());
    }
}
