using System.Globalization;
using System.Text;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Generation;

/// <summary>Haystack kinds of the S-NIAH family.</summary>
public enum HaystackKind
{
    /// <summary>RULER's "noise" haystack: the same five filler sentences repeated.</summary>
    Repeat,

    /// <summary>Varied prose built from the local word lists.</summary>
    Prose,
}

/// <summary>Settings of the S-NIAH generators.</summary>
public sealed class NiahSettings
{
    /// <summary><see langword="null"/> alternates repeat and prose by task index.</summary>
    public HaystackKind? Haystack { get; init; }

    /// <summary><c>number</c>, <c>uuid</c>, or <see langword="null"/> to alternate.</summary>
    public string? ValueType { get; init; }

    /// <summary>The number of decoy needles in the decoy variant.</summary>
    public int Decoys { get; init; } = 8;
}

/// <summary>
/// Single needle in a haystack after RULER (NVIDIA/RULER, niah): the needle
/// "One of the special magic numbers for {key} is: {value}." with an adjective-noun key and a 7-digit (or UUID) value,
/// inserted at one of 40 evenly spaced depths (round(i × 100 / 39) %, i = 0…39) at a sentence boundary.
/// </summary>
public static class NiahGenerator
{
    /// <summary>RULER's repeated filler text.</summary>
    public static readonly string[] RepeatSentences =
    [
        "The grass is green.", "The sky is blue.", "The sun is yellow.", "Here we go.", "There and back again.",
    ];

    /// <summary>The 40 needle depths in percent: 0, 3, 5, 8, …, 100.</summary>
    public static readonly int[] Depths = Enumerable.Range(0, 40).Select(i => (int)Math.Round(i * 100.0 / 39, MidpointRounding.ToEven)).ToArray();

    public static string Needle(string valueType, string key, string value) =>
        $"One of the special magic {Plural(valueType)} for {key} is: {value}.";

    public static EvalTask Generate(string family, int tokens, long seed, int index, NiahSettings settings)
    {
        var decoy = family == Families.SNiahDecoy;
        var rng = DeterministicRandom.For(seed, family, index);

        // Stratify depths: a seed-wide permutation of the 40 depths, taken in task order.
        var depthOrder = Enumerable.Range(0, Depths.Length).ToArray();
        DeterministicRandom.For(seed, family + "/depths", 0).Shuffle(depthOrder);
        var depthIndex = depthOrder[index % Depths.Length];
        var depth = Depths[depthIndex];

        var haystack = settings.Haystack ?? (index % 2 == 0 ? HaystackKind.Repeat : HaystackKind.Prose);
        var valueType = settings.ValueType ?? ((index / 2) % 2 == 0 ? "number" : "uuid");

        var key = RandomKey(rng);
        var value = RandomValue(rng, valueType);
        var needle = Needle(valueType, key, value);

        var decoyNeedles = new List<string>();
        if (decoy)
        {
            var usedKeys = new HashSet<string>(StringComparer.Ordinal) { key };
            var usedValues = new HashSet<string>(StringComparer.Ordinal) { value };
            var parts = key.Split('-');
            var attempts = 0;
            while (decoyNeedles.Count < settings.Decoys && attempts++ < 10_000)
            {
                // Look-alike keys: keep the adjective or the noun of the real key, change the other word.
                var lookAlike = decoyNeedles.Count % 2 == 0
                    ? parts[0] + "-" + rng.Pick(WordLists.Nouns)
                    : rng.Pick(WordLists.Adjectives) + "-" + parts[1];
                var decoyValue = RandomValue(rng, valueType);
                if (usedKeys.Add(lookAlike) && usedValues.Add(decoyValue))
                {
                    decoyNeedles.Add(Needle(valueType, lookAlike, decoyValue));
                }
            }
        }

        var targetChars = TokenMath.TargetChars(tokens);
        var insertsLength = needle.Length + 1 + decoyNeedles.Sum(n => n.Length + 1);
        var sentences = BuildHaystack(rng, haystack, Math.Max(0, targetChars - insertsLength));

        // Boundary offsets: boundary b sits before sentence b (b = 0 … Count).
        var offsets = new int[sentences.Count + 1];
        for (var i = 0; i < sentences.Count; i++)
        {
            offsets[i + 1] = offsets[i] + Joined(sentences[i]);
        }

        var total = offsets[^1];
        var needleBoundary = NearestBoundary(offsets, (long)total * depth / 100);
        var inserts = new List<(int Boundary, string Text, bool IsNeedle)> { (needleBoundary, needle, true) };
        foreach (var d in decoyNeedles)
        {
            var boundary = rng.Next(sentences.Count + 1);
            inserts.Add((boundary, d, false));
        }

        // Stable order: by boundary; at the same boundary the decoys keep their draw order and the needle goes first.
        var ordered = inserts.Select((x, i) => (x, i)).OrderBy(t => t.x.Boundary).ThenBy(t => t.x.IsNeedle ? 0 : 1).ThenBy(t => t.i).Select(t => t.x).ToList();
        var sb = new StringBuilder(targetChars + 64);
        var next = 0;
        var needleOffset = -1;
        for (var b = 0; b <= sentences.Count; b++)
        {
            while (next < ordered.Count && ordered[next].Boundary == b)
            {
                if (ordered[next].IsNeedle)
                {
                    needleOffset = sb.Length;
                }

                sb.Append(ordered[next].Text).Append(' ');
                next++;
            }

            if (b < sentences.Count)
            {
                sb.Append(sentences[b]);
                if (!sentences[b].EndsWith('\n'))
                {
                    sb.Append(' ');
                }
            }
        }

        var context = sb.ToString().TrimEnd();
        var singular = valueType == "uuid" ? "uuid" : "number";
        var question =
            $"What is the special magic {singular} for {key} mentioned in the provided text? " +
            "Give your final answer in the form 'Answer: [X]', where [X] is the value.";

        var id = TaskIds.Make(family, tokens, seed, index);
        return new EvalTask
        {
            Id = id,
            Family = family,
            TargetTokens = tokens,
            Seed = seed,
            ContextId = id,
            ContextChars = context.Length,
            Context = context,
            Question = question,
            Gold = value,
            AnswerType = AnswerTypes.Needle,
            Metadata = new()
            {
                ["kind"] = haystack == HaystackKind.Repeat ? "repeat" : "prose",
                ["haystack"] = haystack == HaystackKind.Repeat ? "repeat" : "prose",
                ["value_type"] = valueType,
                ["key"] = key,
                ["depth_percent"] = depth,
                ["depth_index"] = depthIndex,
                ["needle_offset"] = needleOffset,
                ["decoys"] = decoyNeedles.Count,
            },
        };
    }

    public static string RandomKey(DeterministicRandom rng) => rng.Pick(WordLists.Adjectives) + "-" + rng.Pick(WordLists.Nouns);

    private static string RandomValue(DeterministicRandom rng, string valueType) =>
        valueType == "uuid" ? rng.NextUuid() : rng.NextInclusive(1_000_000, 9_999_999).ToString(CultureInfo.InvariantCulture);

    private static string Plural(string valueType) => valueType == "uuid" ? "uuids" : "numbers";

    private static int NearestBoundary(int[] offsets, long target)
    {
        var index = Array.BinarySearch(offsets, (int)target);
        if (index >= 0)
        {
            return index;
        }

        var upper = ~index;
        if (upper >= offsets.Length)
        {
            return offsets.Length - 1;
        }

        if (upper == 0)
        {
            return 0;
        }

        return target - offsets[upper - 1] <= offsets[upper] - target ? upper - 1 : upper;
    }

    private static List<string> BuildHaystack(DeterministicRandom rng, HaystackKind kind, int targetChars)
    {
        var sentences = new List<string>();
        var length = 0;
        var i = 0;
        while (true)
        {
            var sentence = kind == HaystackKind.Repeat ? RepeatSentences[i % RepeatSentences.Length] : ProseSentence(rng, i);
            if (length + Joined(sentence) > targetChars)
            {
                break;
            }

            sentences.Add(sentence);
            length += Joined(sentence);
            i++;
        }

        return sentences;
    }

    /// <summary>The characters a sentence takes in the joined text (a space follows it unless it ends a paragraph).</summary>
    private static int Joined(string sentence) => sentence.Length + (sentence.EndsWith('\n') ? 0 : 1);

    private static readonly string[] Weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    private static readonly string[] Seasons = ["spring", "summer", "autumn", "winter"];

    /// <summary>One sentence of varied prose. Every eighth sentence ends a paragraph (a line break).</summary>
    private static string ProseSentence(DeterministicRandom rng, int index)
    {
        string A() => rng.Pick(WordLists.Adjectives);
        string N() => rng.Pick(WordLists.Nouns);
        string V3() => rng.Pick(WordLists.VerbsThirdPerson);
        string V() => rng.Pick(WordLists.Verbs);
        string Name() => rng.Pick(WordLists.FirstNames);
        string Place() => rng.Pick(WordLists.Places);

        var sentence = rng.Next(12) switch
        {
            0 => $"The {A()} {N()} {V3()} the {A()} {N()}.",
            1 => $"Near the {N()}, a {A()} {N()} waited for the {N()}.",
            2 => $"Every {rng.Pick(Weekdays)}, {Name()} {V3()} a {N()} beside the {A()} {N()}.",
            3 => $"{Name()} said that the {N()} was {A()} and rather {A()}.",
            4 => $"Nobody expected the {N()} in {Place()} to be so {A()}.",
            5 => $"In {rng.Pick(Seasons)}, the {N()} near {Place()} is usually {A()}.",
            6 => $"It is hard to {V()} a {A()} {N()} without a {N()}.",
            7 => $"{Name()} and {Name()} agreed to {V()} the {N()} before the {N()} grew {A()}.",
            8 => $"A {A()} {N()} is not the same as a {A()} {N()}.",
            9 => $"Somewhere past the {N()}, the road turns {A()} and {A()}.",
            10 => $"The old {N()} in {Place()} still {V3()} every {N()} it finds.",
            _ => $"Once, a {A()} {N()} tried to {V()} the {N()}, and it almost worked.",
        };
        sentence = char.ToUpperInvariant(sentence[0]) + sentence[1..];
        return index % 8 == 7 ? sentence + "\n" : sentence;
    }
}

/// <summary>Task id conventions.</summary>
public static class TaskIds
{
    public static string Make(string family, int tokens, long seed, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{family}-{tokens}-s{seed}-{index:D4}");
}
