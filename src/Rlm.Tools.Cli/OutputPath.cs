using Rlm.Tools.Context;

namespace Rlm.Tools.Cli;

/// <summary>
/// Checks a file the command will write (<c>--trajectory PATH</c>) before the run, so that a path that cannot be written
/// costs nothing: the run is paid for, its output must have somewhere to go.
/// </summary>
internal static class OutputPath
{
    /// <summary>Why <paramref name="path"/> cannot be written, in a few words, or <see langword="null"/> when it can.</summary>
    /// <remarks>
    /// A missing file is created and removed again (<see cref="FileOptions.DeleteOnClose"/>), which proves the folder
    /// writable exactly as the later write needs; an existing regular file is opened for writing without truncating it.
    /// A FIFO or device (<c>/dev/stdout</c>, <c>/dev/null</c>) is not opened: opening a FIFO blocks until a reader comes.
    /// </remarks>
    public static string? Problem(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return "the path is empty";
        }

        if (Directory.Exists(path))
        {
            return "it is a directory";
        }

        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return OneLine(e);
        }

        if (Path.GetDirectoryName(full) is { } folder && !Directory.Exists(folder))
        {
            return File.Exists(folder) ? $"{folder} is not a directory" : $"the directory {folder} does not exist";
        }

        try
        {
            if (File.Exists(full))
            {
                if (FileProbe.Probe(full, followLinks: true).Kind == EntryKind.Regular)
                {
                    using var existing = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                }
            }
            else
            {
                using var probe = new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
        }
        catch (UnauthorizedAccessException)
        {
            return "permission denied";
        }
        catch (IOException e)
        {
            return OneLine(e);
        }

        return null;
    }

    private static string OneLine(Exception e) => TextLimits.OneLine(e.Message, int.MaxValue);
}
