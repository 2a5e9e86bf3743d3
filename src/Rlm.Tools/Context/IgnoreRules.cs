using MAB.DotIgnore;

namespace Rlm.Tools.Context;

/// <summary>
/// The <c>.gitignore</c>/<c>.ignore</c> rules in force at one point of a directory walk, as git applies them: each file
/// matches paths relative to its own folder; a deeper file wins over a shallower one, <c>.ignore</c> over
/// <c>.gitignore</c> in the same folder, and within a file the last matching line wins (<c>!</c> re-includes). A path
/// under an ignored folder is never asked about (the walk does not enter it), as in git. The pattern matching itself
/// (anchors, <c>dir/</c>, <c>**</c>, character classes) is MAB.DotIgnore's, per rule, since its list answers only yes or
/// no and the nesting needs "no rule matched" too.
/// </summary>
internal sealed class IgnoreRules
{
    /// <summary>Ignore files larger than this are not read (no real one comes close).</summary>
    private const long MaxIgnoreFileBytes = 1 << 20;

    private readonly List<Level> _levels = [];

    /// <summary>Reads <c>.gitignore</c> then <c>.ignore</c> of a folder; returns how many were added (for <see cref="Pop"/>).</summary>
    /// <param name="directory">The folder's full path.</param>
    /// <param name="relative">The folder's path relative to the walk's root, with <c>/</c> (empty for the root).</param>
    public int Push(string directory, string relative)
    {
        int added = 0;
        foreach (var name in (ReadOnlySpan<string>)[".gitignore", ".ignore"])
        {
            if (Load(Path.Combine(directory, name), relative, relative.Length == 0 ? name : $"{relative}/{name}") is { } level)
            {
                _levels.Add(level);
                added++;
            }
        }

        return added;
    }

    /// <summary>Adds <c>.git/info/exclude</c> of the root, when there is one, below every other file in precedence.</summary>
    public void AddGitExclude(string root)
    {
        if (Load(Path.Combine(root, ".git", "info", "exclude"), string.Empty, ".git/info/exclude") is { } level)
        {
            _levels.Insert(0, level);
        }
    }

    /// <summary>Drops the last <paramref name="count"/> files added by <see cref="Push"/>.</summary>
    public void Pop(int count) => _levels.RemoveRange(_levels.Count - count, count);

    /// <summary>Returns the file and line that ignore <paramref name="relative"/>, or <see langword="null"/> when it is not ignored.</summary>
    /// <param name="relative">The path relative to the walk's root, with <c>/</c>.</param>
    /// <param name="isDirectory">Whether the path is a folder (<c>dir/</c> patterns match folders only).</param>
    public string? IgnoredBy(string relative, bool isDirectory)
    {
        for (int i = _levels.Count - 1; i >= 0; i--)
        {
            var level = _levels[i];
            string path = level.Base.Length == 0 ? relative : relative[(level.Base.Length + 1)..];
            for (int r = level.Rules.Count - 1; r >= 0; r--)
            {
                var rule = level.Rules[r];
                if (rule.IsMatch(path, isDirectory))
                {
                    return (rule.PatternFlags & PatternFlags.NEGATION) != 0 ? null : $"{level.Source}: {rule.OriginalPattern}";
                }
            }
        }

        return null;
    }

    private static Level? Load(string path, string relative, string source)
    {
        try
        {
            // Only a regular file: a linked, FIFO or device ignore file is not read (git refuses linked ones too).
            var info = FileProbe.Probe(path, followLinks: false);
            if (info.Kind != EntryKind.Regular || info.Length > MaxIgnoreFileBytes)
            {
                return null;
            }

            var rules = new List<IgnoreRule>();
            foreach (var raw in File.ReadLines(path))
            {
                string line = raw.TrimEnd('\r', ' ', '\t');
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                try
                {
                    rules.Add(new IgnoreRule(line, MatchFlags.PATHNAME));
                }
                catch (ArgumentException)
                {
                    // A line the matcher cannot parse ignores nothing, as git does with a bad pattern.
                }
            }

            return rules.Count == 0 ? null : new Level(relative, source, rules);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            return null; // absent (the usual case) or unreadable: no rules from it
        }
    }

    private sealed record Level(string Base, string Source, List<IgnoreRule> Rules);
}
