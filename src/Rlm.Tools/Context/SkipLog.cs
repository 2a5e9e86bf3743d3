using System.Globalization;

namespace Rlm.Tools.Context;

/// <summary>
/// What a directory walk left out: every skip counted per reason, and the first <see cref="MaxListedPerReason"/> paths
/// of each reason listed (a tree with a large ignored or hidden part would otherwise make the report huge).
/// </summary>
internal sealed class SkipLog
{
    /// <summary>The most paths listed per reason; the rest are counted only.</summary>
    public const int MaxListedPerReason = 50;

    private readonly Dictionary<RlmSkipReason, int> _counts = [];
    private readonly List<RlmSkippedPath> _listed = [];

    /// <summary>Gets the number of skipped paths per reason (only reasons that occurred).</summary>
    public IReadOnlyDictionary<RlmSkipReason, int> Counts => _counts;

    /// <summary>Gets the listed paths, in the order they were met (at most <see cref="MaxListedPerReason"/> per reason).</summary>
    public IReadOnlyList<RlmSkippedPath> Listed => _listed;

    /// <summary>Gets the text put before every listed path (the directory as the user named it, with <c>/</c>), or empty.</summary>
    public string PathPrefix { get; init; } = string.Empty;

    /// <summary>Gets the number of skipped paths, listed or not.</summary>
    public int Total => _counts.Values.Sum();

    /// <summary>Records one skipped path.</summary>
    public void Add(string path, RlmSkipReason reason, string detail)
    {
        int count = _counts.GetValueOrDefault(reason) + 1;
        _counts[reason] = count;
        if (count <= MaxListedPerReason)
        {
            _listed.Add(new RlmSkippedPath(DirectoryLoader.DocumentName(PathPrefix + path), reason, detail));
        }
    }

    /// <summary>The stable code of a reason: its snake_case name (<c>special_file</c>).</summary>
    public static string Code(RlmSkipReason reason) => reason switch
    {
        RlmSkipReason.Symlink => "symlink",
        RlmSkipReason.Hidden => "hidden",
        RlmSkipReason.Ignored => "ignored",
        RlmSkipReason.SpecialFile => "special_file",
        RlmSkipReason.Binary => "binary",
        RlmSkipReason.Empty => "empty",
        RlmSkipReason.Unreadable => "unreadable",
        RlmSkipReason.Cycle => "cycle",
        RlmSkipReason.TooLarge => "too_large",
        RlmSkipReason.Compressed => "compressed",
        _ => reason.ToString().ToLowerInvariant(),
    };

    /// <summary>A one-line summary such as <c>3 (2 hidden, 1 symlink)</c>: the total, then the count per reason, most first.</summary>
    public static string Summary(IReadOnlyDictionary<RlmSkipReason, int> counts) => string.Create(CultureInfo.InvariantCulture,
        $"{counts.Values.Sum()} ({string.Join(", ", counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Value} {Code(c.Key)}")))})");
}
