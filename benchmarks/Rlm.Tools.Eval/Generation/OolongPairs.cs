using System.Globalization;
using static Rlm.Tools.Eval.Generation.OolongCorpus;

namespace Rlm.Tools.Eval.Generation;

/// <summary>What one user's lines add up to: label counts and the dates of each label's instances.</summary>
public sealed class UserProfile
{
    public required int User { get; init; }

    public Dictionary<string, List<DateOnly>> DatesByLabel { get; } = Labels.ToDictionary(l => l, _ => new List<DateOnly>(), StringComparer.Ordinal);

    public int Count(string label) => DatesByLabel[label].Count;

    public static Dictionary<int, UserProfile> Build(IEnumerable<OolongRecord> records)
    {
        var profiles = new Dictionary<int, UserProfile>();
        foreach (var r in records)
        {
            if (!profiles.TryGetValue(r.User, out var p))
            {
                p = new UserProfile { User = r.User };
                profiles[r.User] = p;
            }

            p.DatesByLabel[r.Label].Add(r.Date);
        }

        return profiles;
    }
}

/// <summary>One OOLONG-Pairs query: its text and the condition a pair of users must meet.</summary>
/// <param name="Number">The task number (1–20).</param>
/// <param name="Condition">The condition in words (the part of the query after "where" / "such that").</param>
/// <param name="First">The condition on one user.</param>
/// <param name="Second">For asymmetric queries, the condition on the other user; <see langword="null"/> when both must meet <paramref name="First"/>.</param>
public sealed record PairQuery(int Number, string Condition, Func<UserProfile, bool> First, Func<UserProfile, bool>? Second)
{
    public string Text =>
        "In the above data, list all pairs of user IDs (no duplicate pairs, list lower ID first) " + Condition + " " +
        "Each of the questions can be labelled as one of the labels (the data does not provide the labels, you need to figure out the label from the semantics of the question): " +
        "description and abstract concept, entity, human being, numeric value, location, abbreviation. " +
        "In your answer, list all pairs in the format (user_id_1, user_id_2), separated by newlines.";

    /// <summary>Whether the unordered pair (a, b) of distinct users qualifies.</summary>
    public bool Matches(UserProfile a, UserProfile b) =>
        Second is null ? First(a) && First(b) : (First(a) && Second(b)) || (First(b) && Second(a));
}

/// <summary>
/// The 20 OOLONG-Pairs queries of the RLM paper (arXiv 2512.24601, Appendix D.1), over OOLONG trec_coarse-style contexts,
/// with gold pair sets computed from the contexts' exact labels. Tasks 1–10 are symmetric (both users have at least
/// one instance of label A or B; tasks 4, 5, 7, 9 and 10 add "all instances of one label, for both users, must be
/// before/after a date", strict); tasks 11–20 are asymmetric (one user meets X and the other Y).
/// </summary>
public static class OolongPairs
{
    public static readonly IReadOnlyList<PairQuery> Queries = Build();

    /// <summary>The gold pairs of <paramref name="query"/>, each as (lower id, higher id), sorted.</summary>
    public static List<(int A, int B)> Gold(PairQuery query, IReadOnlyList<OolongRecord> records)
    {
        var profiles = UserProfile.Build(records).Values.OrderBy(p => p.User).ToList();
        var pairs = new List<(int, int)>();
        for (var i = 0; i < profiles.Count; i++)
        {
            for (var j = i + 1; j < profiles.Count; j++)
            {
                if (query.Matches(profiles[i], profiles[j]))
                {
                    pairs.Add((profiles[i].User, profiles[j].User));
                }
            }
        }

        return pairs;
    }

    public static string FormatPairs(IEnumerable<(int A, int B)> pairs) =>
        string.Join("\n", pairs.Select(p => string.Create(CultureInfo.InvariantCulture, $"({p.A}, {p.B})")));

    private static Func<UserProfile, bool> AnyOf(string a, string b) => p => p.Count(a) + p.Count(b) >= 1;

    private static Func<UserProfile, bool> AllAfter(string label, DateOnly date) => p => p.DatesByLabel[label].All(d => d > date);

    private static Func<UserProfile, bool> AllBefore(string label, DateOnly date) => p => p.DatesByLabel[label].All(d => d < date);

    private static Func<UserProfile, bool> AtLeast(string label, int n) => p => p.Count(label) >= n;

    private static Func<UserProfile, bool> Exactly(string label, int n) => p => p.Count(label) == n;

    private static Func<UserProfile, bool> And(params Func<UserProfile, bool>[] parts) => p => parts.All(f => f(p));

    private static List<PairQuery> Build() =>
    [
        new(1, "where both users have at least one instance with a numeric value or location.", AnyOf(Numeric, Location), null),
        new(2, "where both users have at least one instance with an entity or human being.", AnyOf(Entity, Human), null),
        new(3, "where both users have at least one instance with a description and abstract concept or abbreviation.", AnyOf(Description, Abbreviation), null),
        new(4, "where both users have at least one instance with a human being or location, and all instances that are a human being for both users must be after January 6, 2023.",
            And(AnyOf(Human, Location), AllAfter(Human, new DateOnly(2023, 1, 6))), null),
        new(5, "where both users have at least one instance with an entity or numeric value, and all instances that are an entity for both users must be before March 15, 2023.",
            And(AnyOf(Entity, Numeric), AllBefore(Entity, new DateOnly(2023, 3, 15))), null),
        new(6, "where both users have at least one instance with a location or abbreviation.", AnyOf(Location, Abbreviation), null),
        new(7, "where both users have at least one instance with a description and abstract concept or numeric value, and all instances that are a numeric value for both users must be after February 1, 2023.",
            And(AnyOf(Description, Numeric), AllAfter(Numeric, new DateOnly(2023, 2, 1))), null),
        new(8, "where both users have at least one instance with a human being or description and abstract concept.", AnyOf(Human, Description), null),
        new(9, "where both users have at least one instance with an entity or location, and all instances that are a location for both users must be after April 10, 2023.",
            And(AnyOf(Entity, Location), AllAfter(Location, new DateOnly(2023, 4, 10))), null),
        new(10, "where both users have at least one instance with a numeric value or abbreviation, and all instances that are an abbreviation for both users must be before May 20, 2023.",
            And(AnyOf(Numeric, Abbreviation), AllBefore(Abbreviation, new DateOnly(2023, 5, 20))), null),
        new(11, "such that one user has at least one instance with entity and one with abbreviation, and the other user has exactly one instance with entity.",
            And(AtLeast(Entity, 1), AtLeast(Abbreviation, 1)), Exactly(Entity, 1)),
        new(12, "such that one user has at least two instances with numeric value, and the other user has at least one instance with location and at least one instance with human being.",
            AtLeast(Numeric, 2), And(AtLeast(Location, 1), AtLeast(Human, 1))),
        new(13, "such that one user has exactly one instance with description and abstract concept, and the other user has at least one instance with abbreviation and at least one instance with entity.",
            Exactly(Description, 1), And(AtLeast(Abbreviation, 1), AtLeast(Entity, 1))),
        new(14, "such that one user has at least one instance with human being and at least one instance with numeric value, and the other user has exactly two instances with location.",
            And(AtLeast(Human, 1), AtLeast(Numeric, 1)), Exactly(Location, 2)),
        new(15, "such that one user has at least one instance with entity, at least one instance with location, and at least one instance with abbreviation, and the other user has exactly one instance with numeric value.",
            And(AtLeast(Entity, 1), AtLeast(Location, 1), AtLeast(Abbreviation, 1)), Exactly(Numeric, 1)),
        new(16, "such that one user has at least one instance with description and abstract concept and at least one instance with human being, and the other user has at least two instances with entity and exactly one instance with abbreviation.",
            And(AtLeast(Description, 1), AtLeast(Human, 1)), And(AtLeast(Entity, 2), Exactly(Abbreviation, 1))),
        new(17, "such that one user has exactly one instance with numeric value, and the other user has at least one instance with location and at least one instance with description and abstract concept.",
            Exactly(Numeric, 1), And(AtLeast(Location, 1), AtLeast(Description, 1))),
        new(18, "such that one user has at least one instance with abbreviation and exactly one instance with human being, and the other user has at least one instance with entity and at least one instance with numeric value.",
            And(AtLeast(Abbreviation, 1), Exactly(Human, 1)), And(AtLeast(Entity, 1), AtLeast(Numeric, 1))),
        new(19, "such that one user has at least two instances with location and at least one instance with entity, and the other user has exactly one instance with description and abstract concept and exactly one instance with abbreviation.",
            And(AtLeast(Location, 2), AtLeast(Entity, 1)), And(Exactly(Description, 1), Exactly(Abbreviation, 1))),
        new(20, "such that one user has at least one instance with numeric value and at least one instance with human being, and the other user has at least one instance with location, at least one instance with entity, and exactly one instance with abbreviation.",
            And(AtLeast(Numeric, 1), AtLeast(Human, 1)), And(AtLeast(Location, 1), AtLeast(Entity, 1), Exactly(Abbreviation, 1))),
    ];
}
