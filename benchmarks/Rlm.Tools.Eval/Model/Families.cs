namespace Rlm.Tools.Eval.Model;

/// <summary>The task families the harness generates.</summary>
public static class Families
{
    /// <summary>RULER-style single needle in a haystack.</summary>
    public const string SNiah = "s-niah";

    /// <summary>Single needle among look-alike decoy needles.</summary>
    public const string SNiahDecoy = "s-niah-decoy";

    /// <summary>OOLONG-synth (trec_coarse) clone: aggregate questions over semantically labelled lines.</summary>
    public const string Oolong = "oolong";

    /// <summary>OOLONG-Pairs clone: the 20 pair queries of the RLM paper over OOLONG contexts.</summary>
    public const string OolongPairs = "oolong-pairs";

    /// <summary>Structured log aggregation, answerable exactly with code alone.</summary>
    public const string Logs = "logs";

    public static readonly IReadOnlyList<string> All = [SNiah, SNiahDecoy, Oolong, OolongPairs, Logs];

    /// <summary>Human-readable family titles for reports.</summary>
    public static string Title(string family) => family switch
    {
        SNiah => "S-NIAH (single needle)",
        SNiahDecoy => "S-NIAH with decoy needles",
        Oolong => "OOLONG-synth (trec_coarse clone)",
        OolongPairs => "OOLONG-Pairs",
        Logs => "Log aggregation (control)",
        _ => family,
    };
}

/// <summary>Answer types; each selects a scoring rule.</summary>
public static class AnswerTypes
{
    /// <summary>S-NIAH: case-insensitive substring match of the gold value (RULER string_match_all).</summary>
    public const string Needle = "NEEDLE";

    // OOLONG-synth answer types (scored as OOLONG's synth_process_response).
    public const string Label = "LABEL";
    public const string Comparison = "COMPARISON";
    public const string Numeric = "NUMERIC";
    public const string User = "USER";
    public const string Date = "DATE";
    public const string MonthYear = "MONTH_YEAR";

    /// <summary>OOLONG-Pairs: set F1 over (min, max) id pairs.</summary>
    public const string Pairs = "PAIRS";

    // Log aggregation answer types.
    public const string Number = "NUMBER";
    public const string OrderedList = "LIST";
    public const string Text = "TEXT";
}
