namespace Rlm.Tools;

/// <summary>
/// How <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/> walks a directory. The defaults are ripgrep's:
/// links are not followed, hidden files and what <c>.gitignore</c>/<c>.ignore</c> exclude are left out. Whatever the
/// settings, <c>.git</c> is never read and FIFOs, sockets and devices are never opened.
/// </summary>
public sealed class RlmDirectoryOptions
{
    /// <summary>
    /// Gets the glob patterns of the files to read, applied on top of the walk's own rules with ripgrep's <c>--glob</c>
    /// semantics: gitignore-style patterns relative to the directory, where a pattern without <c>/</c> matches a name at any
    /// depth (<c>*.cs</c>), a leading <c>/</c> anchors it to the directory, <c>**</c> spans folders, <c>{cs,md}</c>
    /// alternates and a leading <c>!</c> excludes (<c>!*.md</c>; <c>!tests</c> leaves out a folder named tests). The last
    /// pattern that matches a path decides (<see cref="CaseInsensitiveGlobs"/> count after these); a file no pattern
    /// matches is read only when every pattern is an exclusion. Matching is case-sensitive. A pattern with a <c>..</c>
    /// segment is refused.
    /// </summary>
    /// <value>Empty by default: every file the walk reaches (<c>**/*</c>).</value>
    public IList<string> Globs { get; } = [];

    /// <summary>
    /// Gets glob patterns matched without regard to case (ripgrep's <c>--iglob</c>), with the syntax and semantics of
    /// <see cref="Globs"/>; they count after every pattern of <see cref="Globs"/>, so they win when both match a path.
    /// </summary>
    /// <value>Empty by default.</value>
    public IList<string> CaseInsensitiveGlobs { get; } = [];

    /// <summary>
    /// Gets or sets a value indicating whether symbolic links are followed, to files and to folders, wherever they point
    /// (outside the directory too: turning this on trusts the links in the tree). A loop, or a link to a folder already
    /// being read, is skipped as <see cref="RlmSkipReason.Cycle"/>; a link to a FIFO or device is skipped unopened.
    /// </summary>
    /// <value><see langword="false"/> by default: links are skipped as <see cref="RlmSkipReason.Symlink"/> (the directory itself may be a link).</value>
    public bool FollowLinks { get; set; }

    /// <summary>Gets or sets a value indicating whether files and folders whose names start with <c>.</c> are read (<c>.git</c> never is).</summary>
    /// <value><see langword="false"/> by default.</value>
    public bool IncludeHidden { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether <c>.gitignore</c> and <c>.ignore</c> files (at any level, each applying to its
    /// folder's subtree; <c>.ignore</c> wins over <c>.gitignore</c>, deeper files over shallower) and <c>.git/info/exclude</c>
    /// leave paths out. They apply whether or not the directory is a git repository. When it lies inside a git work tree, the
    /// ignore files of the folders above it, up to the work tree's top, and the top's <c>.git/info/exclude</c> apply too (as
    /// ripgrep reads them); outside a work tree, nothing above the directory is read.
    /// </summary>
    /// <value><see langword="true"/> by default.</value>
    public bool UseIgnoreFiles { get; set; } = true;
}
