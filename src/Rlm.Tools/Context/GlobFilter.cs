using System.Text;
using MAB.DotIgnore;

namespace Rlm.Tools.Context;

/// <summary>
/// Chooses files under a directory by globs as ripgrep's <c>--glob</c>/<c>--iglob</c> do: each glob is a gitignore-style
/// pattern (MAB.DotIgnore matches it, as it matches the ignore files); a glob without <c>/</c> matches a name at any depth,
/// a leading <c>/</c> anchors it to the directory, <c>**</c> spans folders, <c>!</c> excludes, and <c>{a,b}</c> alternates.
/// The last glob that matches a path decides; a file no glob matches is read only when every glob is an exclusion. A folder
/// that an exclusion matches is left out whole (<c>!tests</c>).
/// </summary>
internal sealed class GlobFilter
{
    // Brace alternatives multiply: a pattern that expands past this many is refused rather than slowing every path down.
    private const int MaxExpansions = 256;

    private readonly List<(Rule[] Rules, bool Exclude, string Original)> _globs = [];
    private readonly bool _anyInclude;

    /// <summary>Builds the filter; <paramref name="globs"/> are in order, later ones winning.</summary>
    /// <exception cref="ArgumentException">A glob is empty, has a <c>..</c> segment, or unbalanced or too many braces.</exception>
    public GlobFilter(IEnumerable<(string Glob, bool IgnoreCase)> globs)
    {
        foreach (var (glob, ignoreCase) in globs)
        {
            if (string.IsNullOrWhiteSpace(glob) || glob.Trim() == "!")
            {
                throw new ArgumentException("a glob pattern is empty: give one such as \"*.cs\" or \"!*.md\"");
            }

            string pattern = glob.Trim().Replace('\\', '/');
            bool exclude = pattern.StartsWith('!');
            pattern = exclude ? pattern[1..] : pattern;
            while (pattern.StartsWith("./", StringComparison.Ordinal))
            {
                pattern = pattern[2..];
            }

            if (pattern.Split('/').Contains(".."))
            {
                throw new ArgumentException($"glob {glob}: a pattern may not contain '..'; it matches files under the directory only");
            }

            if (pattern.StartsWith('#'))
            {
                pattern = "\\" + pattern; // a file name, not a gitignore comment
            }

            var flags = MatchFlags.PATHNAME | (ignoreCase ? MatchFlags.CASEFOLD : MatchFlags.NONE);
            var rules = ExpandBraces(pattern, glob).Select(p => new Rule(new IgnoreRule(p, flags), TopOnly: p.StartsWith('/') && p.IndexOf('/', 1) < 0)).ToArray();
            _globs.Add((rules, exclude, glob));
            _anyInclude |= !exclude;
        }
    }

    /// <summary>Gets a value indicating whether there is no glob (every file is read).</summary>
    public bool IsEmpty => _globs.Count == 0;

    /// <summary>Whether the file at <paramref name="relativePath"/> (relative to the directory, with <c>/</c>) is read.</summary>
    public bool Includes(string relativePath)
    {
        if (IsEmpty)
        {
            return true;
        }

        // A folder an exclusion matches is pruned, as ripgrep does while it walks.
        for (int slash = relativePath.IndexOf('/'); slash > 0; slash = relativePath.IndexOf('/', slash + 1))
        {
            if (LastMatch(relativePath[..slash], isDirectory: true) is { Exclude: true })
            {
                return false;
            }
        }

        return LastMatch(relativePath, isDirectory: false) is { } last ? !last.Exclude : !_anyInclude;
    }

    private (Rule[] Rules, bool Exclude, string Original)? LastMatch(string path, bool isDirectory)
    {
        for (int i = _globs.Count - 1; i >= 0; i--)
        {
            if (_globs[i].Rules.Any(r => (!r.TopOnly || !path.Contains('/', StringComparison.Ordinal)) && r.Pattern.IsMatch(path, isDirectory)))
            {
                return _globs[i];
            }
        }

        return null;
    }

    /// <summary>
    /// <c>*.{cs,md}</c> as <c>*.cs</c> and <c>*.md</c>, nested braces too. Hand-written: gitignore patterns (MAB.DotIgnore)
    /// have no braces, and none of the served glob packages expands them into gitignore patterns.
    /// </summary>
    internal static List<string> ExpandBraces(string pattern, string original)
    {
        int open = -1, depth = 0;
        var commas = new List<int>();
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\')
            {
                i++;
                continue;
            }

            if (c == '{')
            {
                if (depth++ == 0)
                {
                    open = i;
                    commas.Clear();
                }
            }
            else if (c == ',' && depth == 1)
            {
                commas.Add(i);
            }
            else if (c == '}')
            {
                if (depth == 0)
                {
                    throw new ArgumentException($"glob {original}: '}}' without '{{'");
                }

                if (--depth == 0)
                {
                    var result = new List<string>();
                    string prefix = pattern[..open], suffix = pattern[(i + 1)..];
                    int start = open + 1;
                    foreach (int end in commas.Append(i))
                    {
                        foreach (string tail in ExpandBraces(prefix + pattern[start..end] + suffix, original))
                        {
                            result.Add(tail);
                            if (result.Count > MaxExpansions)
                            {
                                throw new ArgumentException($"glob {original}: its braces expand to more than {MaxExpansions} patterns");
                            }
                        }

                        start = end + 1;
                    }

                    return result;
                }
            }
        }

        if (depth > 0)
        {
            throw new ArgumentException($"glob {original}: '{{' without '}}'");
        }

        return [pattern];
    }

    /// <summary>One pattern; <paramref name="TopOnly"/>: "/name" matches at the top only (MAB.DotIgnore matches it at any depth).</summary>
    private sealed record Rule(IgnoreRule Pattern, bool TopOnly);

    /// <inheritdoc />
    public override string ToString() => new StringBuilder().AppendJoin(", ", _globs.Select(g => g.Original)).ToString();
}
