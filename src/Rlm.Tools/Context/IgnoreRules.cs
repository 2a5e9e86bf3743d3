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
            if (Load(Path.Combine(directory, name), relative, string.Empty, relative.Length == 0 ? name : $"{relative}/{name}") is { } level)
            {
                _levels.Add(level);
                added++;
            }
        }

        return added;
    }

    /// <summary>
    /// Adds the rules that apply from above the walk's root, below every file inside it in precedence: when the root lies
    /// in a git work tree, the <c>.gitignore</c>/<c>.ignore</c> files of the folders from the work tree's top down to the
    /// root's parent and the top's <c>.git/info/exclude</c>, as ripgrep reads them (so <c>--dir src</c> in a repository
    /// leaves out the <c>bin/</c> its top-level <c>.gitignore</c> names); otherwise <c>.git/info/exclude</c> of the root.
    /// </summary>
    /// <param name="root">The walk's root, a full path.</param>
    public void AddOuterRules(string root)
    {
        var above = new List<string>();
        string? top = null;
        for (var folder = Directory.GetParent(root); folder is not null; folder = folder.Parent)
        {
            above.Add(folder.FullName);
            if (Path.Exists(Path.Combine(folder.FullName, ".git")))
            {
                top = folder.FullName;
                break;
            }
        }

        if (Path.Exists(Path.Combine(root, ".git")) || top is null)
        {
            if (Load(Path.Combine(root, ".git", "info", "exclude"), string.Empty, string.Empty, ".git/info/exclude") is { } own)
            {
                _levels.Insert(0, own);
            }

            return;
        }

        var outer = new List<Level>();
        if (Load(Path.Combine(top, ".git", "info", "exclude"), string.Empty, Prefix(top, root), Path.Combine(top, ".git", "info", "exclude")) is { } exclude)
        {
            outer.Add(exclude);
        }

        for (int i = above.Count - 1; i >= 0; i--)
        {
            foreach (var name in (ReadOnlySpan<string>)[".gitignore", ".ignore"])
            {
                string file = Path.Combine(above[i], name);
                if (Load(file, string.Empty, Prefix(above[i], root), file) is { } level)
                {
                    outer.Add(level);
                }
            }
        }

        _levels.InsertRange(0, outer);
    }

    /// <summary>The walk root's path relative to <paramref name="folder"/> above it, with <c>/</c> and a trailing <c>/</c>.</summary>
    private static string Prefix(string folder, string root) => Path.GetRelativePath(folder, root).Replace('\\', '/') + "/";

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
            string path = level.Prefix + (level.Base.Length == 0 ? relative : relative[(level.Base.Length + 1)..]);
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

    private static Level? Load(string path, string relative, string prefix, string source)
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

            return rules.Count == 0 ? null : new Level(relative, prefix, source, rules);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            return null; // absent (the usual case) or unreadable: no rules from it
        }
    }

    /// <param name="Base">The file's folder relative to the walk's root (empty for the root and the folders above it).</param>
    /// <param name="Prefix">What turns a path relative to the root into one relative to a folder above it (empty inside the root).</param>
    /// <param name="Source">The file, as shown in a skip reason.</param>
    /// <param name="Rules">Its patterns, in file order.</param>
    private sealed record Level(string Base, string Prefix, string Source, List<IgnoreRule> Rules);
}
