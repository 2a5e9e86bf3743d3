using System.Globalization;
using System.Text;

namespace Rlm.Tools.Eval.Generation;

/// <summary>One line of an OOLONG context: its date, user, hidden label and question text.</summary>
public sealed record OolongRecord(DateOnly Date, int User, string Label, string Text)
{
    /// <summary>The line exactly as it appears in the context.</summary>
    public string Line => OolongCorpus.FormatLine(Date, User, Text);
}

/// <summary>One generated OOLONG context window.</summary>
public sealed class OolongWindow
{
    public required string ContextId { get; init; }

    public required IReadOnlyList<OolongRecord> Records { get; init; }

    public required string Text { get; init; }
}

/// <summary>
/// The OOLONG-synth (trec_coarse) clone's contexts (abertsch72/oolong). Each line is
/// <c>Date: {Mon DD, YYYY} || User: {5-digit id} || Instance: {question}</c>; the question's TREC coarse label
/// (one of six) is hidden. Instances are built from per-label templates, so every label is exact by construction.
/// Dates are uniform in 2022-02-16…2025-06-21; user ids are skewed (10% of the pool are "common" ids, picked with
/// probability 0.8); label counts are skewed by a random geometric weighting.
/// </summary>
public static class OolongCorpus
{
    public const string Abbreviation = "abbreviation";
    public const string Entity = "entity";
    public const string Description = "description and abstract concept";
    public const string Human = "human being";
    public const string Location = "location";
    public const string Numeric = "numeric value";

    /// <summary>The six labels in the order the OOLONG-Pairs queries list them.</summary>
    public static readonly string[] Labels = [Description, Entity, Human, Numeric, Location, Abbreviation];

    public static readonly DateOnly FirstDate = new(2022, 2, 16);
    public static readonly DateOnly LastDate = new(2025, 6, 21);

    /// <summary>
    /// Instance templates per label. Slots: <c>{A}</c> adjective, <c>{N}</c> noun, <c>{V}</c> verb, <c>{Name}</c> person,
    /// <c>{Place}</c>, <c>{Org}</c> organisation, <c>{ACR}</c> acronym, <c>{Animal}</c>, <c>{Profession}</c>.
    /// The literal parts of different labels' templates never match each other, so a line's label can be recovered
    /// from its text alone (the tests check this).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> Templates = new Dictionary<string, string[]>
    {
        [Abbreviation] =
        [
            "What does {ACR} stand for ?",
            "What is the full form of {ACR} ?",
            "What is the abbreviation for the {Org} ?",
            "What is the acronym of the {Org} ?",
            "What do the letters {ACR} mean on a {N} label ?",
            "How is the {Org} usually abbreviated ?",
        ],
        [Entity] =
        [
            "What kind of animal is a {Animal} ?",
            "What instrument did {Name} play in the {A} {N} Orchestra ?",
            "What material is the {A} {N} of {Place} made of ?",
            "What color is the flag of the {Org} ?",
            "Which breed of {Animal} won the {A} {N} prize ?",
            "What is the name of the {N} that {Name} keeps in {Place} ?",
        ],
        [Description] =
        [
            "What is the definition of {N} ?",
            "Why do {N} collectors {V} the {A} {N} ?",
            "How does a {A} {N} work ?",
            "What does it mean to {V} a {N} ?",
            "What is the origin of the phrase {A} {N} ?",
            "What is the difference between a {N} and a {N} ?",
        ],
        [Human] =
        [
            "Who invented the {A} {N} ?",
            "Who wrote the novel The {A} {N} ?",
            "Who founded the {Org} ?",
            "Who was the first person to {V} the {N} of {Place} ?",
            "What was the name of the first {Profession} of {Place} ?",
            "Who painted the portrait of {Name} ?",
        ],
        [Location] =
        [
            "Where is the {A} {N} of {Place} located ?",
            "What country is {Place} in ?",
            "In which city was the {Org} founded ?",
            "Where can one find a {A} {Animal} ?",
            "What continent is {Place} on ?",
            "Where did {Name} {V} the {N} ?",
        ],
        [Numeric] =
        [
            "How many {N} pieces fit in a {A} {N} ?",
            "How much does a {A} {N} cost in {Place} ?",
            "When was the {Org} founded ?",
            "What year did {Name} {V} the {N} ?",
            "How tall is the {A} {N} Tower in {Place} ?",
            "How far is {Place} from {Place} ?",
        ],
    };

    private static readonly string[] OrgKinds = ["Society", "Guild", "Institute", "Club", "League", "Foundation", "Academy", "Union"];

    public static string FormatDate(DateOnly date) => date.ToString("MMM dd, yyyy", CultureInfo.InvariantCulture);

    public static string FormatLine(DateOnly date, int user, string text) =>
        string.Create(CultureInfo.InvariantCulture, $"Date: {FormatDate(date)} || User: {user} || Instance: {text}");

    /// <summary>The context's opening paragraph (after OOLONG-synth's context header).</summary>
    public static string Header(int lines) =>
        string.Create(CultureInfo.InvariantCulture, $"The following lines contain {lines} general-knowledge questions, one per line. ") + Explanation(lines);

    /// <summary>The context's closing "Recall" paragraph.</summary>
    public static string Footer(int lines) =>
        string.Create(CultureInfo.InvariantCulture, $"Recall: the preceding lines contain {lines} general-knowledge questions, one per line. ") + Explanation(lines);

    private static string Explanation(int lines) =>
        "Each line has a User ID, which is not necessarily unique, i.e. each User ID can be associated with multiple questions. " +
        "Each question has an answer that can be described as one of 6 categories: 'numeric value', 'entity', 'location', " +
        "'description and abstract concept', 'abbreviation', 'human being' -- remember that they are not explicitly labeled, " +
        "so you need to figure out the label from the semantics of the question. " +
        string.Create(CultureInfo.InvariantCulture, $"You will be asked to answer questions about the aggregate label statistics across all {lines} examples in this dataset. ") +
        "Do not try to guess, estimate, or approximate the result. Calculate the exact answer given these datapoints.";

    /// <summary>The context id of one window; OOLONG and OOLONG-Pairs tasks of the same seed, length and window share it.</summary>
    public static string ContextId(int tokens, long seed, int window) =>
        string.Create(CultureInfo.InvariantCulture, $"oolong-ctx-{tokens}-s{seed}-w{window:D3}");

    /// <summary>Generates one context window of about <paramref name="tokens"/> tokens.</summary>
    public static OolongWindow Generate(int tokens, long seed, int window)
    {
        var rng = DeterministicRandom.For(seed, "oolong-window", window);
        var targetChars = TokenMath.TargetChars(tokens);

        // Skewed label weights: geometric ratios over a random label order.
        var order = Labels.ToArray();
        rng.Shuffle(order);
        var ratio = 0.45 + 0.35 * rng.NextDouble();
        var weights = new double[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            weights[i] = Math.Pow(ratio, i);
        }

        // Header and footer with the largest line count they could state, so the total never overshoots.
        var overhead = Header(9_999_999).Length + Footer(9_999_999).Length + 4;
        var averageLine = 95;
        var estimatedLines = Math.Max(1, (targetChars - overhead) / averageLine);

        var poolSize = Math.Clamp(estimatedLines / 4, 8, 400);
        var ids = new HashSet<int>();
        var pool = new List<int>();
        while (pool.Count < poolSize)
        {
            var id = rng.NextInclusive(10_000, 99_999);
            if (ids.Add(id))
            {
                pool.Add(id);
            }
        }

        var commonCount = Math.Max(1, (int)Math.Round(poolSize * 0.1));
        var common = pool.Take(commonCount).ToArray();
        var rare = pool.Skip(commonCount).ToArray();
        var dayCount = LastDate.DayNumber - FirstDate.DayNumber + 1;

        var records = new List<OolongRecord>();
        var used = 0;
        var budget = targetChars - overhead;
        while (true)
        {
            var label = order[PickWeighted(rng, weights)];
            var user = rare.Length == 0 || rng.Chance(0.8) ? rng.Pick(common) : rng.Pick(rare);
            var date = DateOnly.FromDayNumber(FirstDate.DayNumber + rng.Next(dayCount));
            var text = Instance(rng, label);
            var record = new OolongRecord(date, user, label, text);
            var length = record.Line.Length + 1;
            if (used + length > budget)
            {
                break;
            }

            records.Add(record);
            used += length;
        }

        var sb = new StringBuilder(targetChars);
        sb.Append(Header(records.Count)).Append("\n\n");
        foreach (var r in records)
        {
            sb.Append(r.Line).Append('\n');
        }

        sb.Append(Footer(records.Count));
        return new OolongWindow { ContextId = ContextId(tokens, seed, window), Records = records, Text = sb.ToString() };
    }

    /// <summary>Fills a random template of <paramref name="label"/>.</summary>
    public static string Instance(DeterministicRandom rng, string label)
    {
        var template = rng.Pick(Templates[label]);
        var sb = new StringBuilder(template.Length + 32);
        var i = 0;
        while (i < template.Length)
        {
            if (template[i] == '{')
            {
                var end = template.IndexOf('}', i);
                sb.Append(Slot(rng, template[(i + 1)..end]));
                i = end + 1;
            }
            else
            {
                sb.Append(template[i]);
                i++;
            }
        }

        return sb.ToString();
    }

    private static string Slot(DeterministicRandom rng, string slot) => slot switch
    {
        "A" => rng.Pick(WordLists.Adjectives),
        "N" => rng.Pick(WordLists.Nouns),
        "V" => rng.Pick(WordLists.Verbs),
        "Name" => rng.Pick(WordLists.FirstNames) + " " + rng.Pick(WordLists.Surnames),
        "Place" => rng.Pick(WordLists.Places),
        "Org" => Capitalize(rng.Pick(WordLists.Adjectives)) + " " + Capitalize(rng.Pick(WordLists.Nouns)) + " " + rng.Pick(OrgKinds),
        "ACR" => Acronym(rng),
        "Animal" => rng.Pick(WordLists.Animals),
        "Profession" => rng.Pick(WordLists.Professions),
        _ => throw new InvalidOperationException($"Unknown template slot {{{slot}}}."),
    };

    private static string Acronym(DeterministicRandom rng)
    {
        var length = rng.NextInclusive(2, 5);
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)('A' + rng.Next(26));
        }

        return new string(chars);
    }

    private static string Capitalize(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    private static int PickWeighted(DeterministicRandom rng, double[] weights)
    {
        var total = weights.Sum();
        var x = rng.NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }
}
