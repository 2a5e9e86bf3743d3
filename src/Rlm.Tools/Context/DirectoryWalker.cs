namespace Rlm.Tools.Context;

/// <summary>A regular file the walk reached: its path relative to the root (with <c>/</c>) and its full path.</summary>
internal readonly record struct WalkedFile(string RelativePath, string FullPath);

/// <summary>
/// Walks a directory with ripgrep's defaults and lists the regular files to read, recording every path it leaves out
/// and why (<see cref="SkipLog"/>). Nothing is opened here but folders (to list them) and ignore files: a FIFO, socket or
/// device is recognised from its metadata (<see cref="FileProbe"/>). Hand-written because no served package walks with
/// these rules (a globbing library follows links and opens nothing but cannot tell a FIFO).
/// </summary>
internal sealed class DirectoryWalker(RlmDirectoryOptions options, SkipLog skipped)
{
    private readonly List<WalkedFile> _files = [];
    private readonly HashSet<EntryId> _ancestors = [];
    private readonly HashSet<EntryId> _visited = [];
    private readonly IgnoreRules _ignores = new();

    /// <summary>Walks <paramref name="root"/> (followed when it is itself a link: the caller named it) and returns its files in ordinal order.</summary>
    /// <exception cref="DirectoryNotFoundException">The root does not exist or is not a directory.</exception>
    /// <exception cref="IOException">The root cannot be listed.</exception>
    /// <exception cref="UnauthorizedAccessException">The root may not be listed.</exception>
    public IReadOnlyList<WalkedFile> Walk(string root, CancellationToken cancellationToken)
    {
        EntryInfo info;
        try
        {
            info = FileProbe.Probe(root, followLinks: true);
        }
        catch (FileNotFoundException)
        {
            throw new DirectoryNotFoundException($"directory not found: {root}");
        }

        if (info.Kind != EntryKind.Directory)
        {
            throw new DirectoryNotFoundException($"directory not found: {root}");
        }

        string full = Path.GetFullPath(root);
        if (options.UseIgnoreFiles)
        {
            _ignores.AddOuterRules(Path.TrimEndingDirectorySeparator(full));
        }

        WalkDirectory(full, string.Empty, info.Id, cancellationToken);
        return _files;
    }

    private void WalkDirectory(string directory, string relative, EntryId id, CancellationToken cancellationToken)
    {
        string[] names;
        try
        {
            names = [.. Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>()];
        }
        catch (Exception e) when (relative.Length > 0 && e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            skipped.Add(relative + "/", RlmSkipReason.Unreadable, $"folder cannot be listed: {TextLimits.OneLine(e.Message, 200)}");
            return;
        }

        Array.Sort(names, StringComparer.Ordinal);
        _visited.Add(id);
        _ancestors.Add(id);
        int pushed = options.UseIgnoreFiles ? _ignores.Push(directory, relative) : 0;
        try
        {
            foreach (var name in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Visit(Path.Combine(directory, name), relative.Length == 0 ? name : $"{relative}/{name}", name, cancellationToken);
            }
        }
        finally
        {
            _ignores.Pop(pushed);
            _ancestors.Remove(id);
        }
    }

    private void Visit(string path, string relative, string name, CancellationToken cancellationToken)
    {
        if (name == ".git")
        {
            skipped.Add(relative, RlmSkipReason.Hidden, "version control data: never read");
            return;
        }

        if (!options.IncludeHidden && name.StartsWith('.'))
        {
            skipped.Add(relative, RlmSkipReason.Hidden, "hidden (name starts with '.'; --hidden reads it)");
            return;
        }

        EntryInfo info;
        bool viaLink = false;
        try
        {
            info = FileProbe.Probe(path, followLinks: false);
            if (info.Kind == EntryKind.Link && options.FollowLinks)
            {
                viaLink = true;
                info = FileProbe.Probe(path, followLinks: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            bool loop = e.Message.Contains("link loop", StringComparison.Ordinal);
            skipped.Add(relative, loop ? RlmSkipReason.Cycle : RlmSkipReason.Unreadable, viaLink
                ? loop ? "symbolic link loop" : $"broken symbolic link: {TextLimits.OneLine(e.Message, 200)}"
                : $"vanished or cannot be inspected: {TextLimits.OneLine(e.Message, 200)}");
            return;
        }

        bool isDirectory = info.Kind == EntryKind.Directory;
        if (options.UseIgnoreFiles && _ignores.IgnoredBy(relative, isDirectory) is { } rule)
        {
            skipped.Add(isDirectory ? relative + "/" : relative, RlmSkipReason.Ignored, $"ignored by {rule}");
            return;
        }

        switch (info.Kind)
        {
            case EntryKind.Link:
                skipped.Add(relative, RlmSkipReason.Symlink, "symbolic link, not followed (--follow reads it)");
                break;
            case EntryKind.Directory when _ancestors.Contains(info.Id):
                skipped.Add(relative + "/", RlmSkipReason.Cycle, "link to a folder that contains it (a loop): read once");
                break;
            case EntryKind.Directory when _visited.Contains(info.Id):
                skipped.Add(relative + "/", RlmSkipReason.Cycle, "folder already read through another path");
                break;
            case EntryKind.Directory:
                WalkDirectory(path, relative, info.Id, cancellationToken);
                break;
            case EntryKind.Regular when info.Length == 0:
                skipped.Add(relative, RlmSkipReason.Empty, "empty file");
                break;
            case EntryKind.Regular:
                _files.Add(new WalkedFile(relative, path));
                break;
            case EntryKind.EmptyOrSpecial:
                skipped.Add(relative, RlmSkipReason.Empty, "zero bytes (an empty file, or a pipe or device this platform cannot tell): not opened");
                break;
            default:
                skipped.Add(relative, RlmSkipReason.SpecialFile, $"{Describe(info.Kind)}{(viaLink ? " behind a symbolic link" : "")}: never opened");
                break;
        }
    }

    private static string Describe(EntryKind kind) => kind switch
    {
        EntryKind.Fifo => "named pipe (FIFO)",
        EntryKind.Socket => "socket",
        EntryKind.CharacterDevice => "character device",
        EntryKind.BlockDevice => "block device",
        _ => "not a regular file",
    };
}
