namespace Rlm.Tools;

/// <summary>
/// Why <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/> left a path out. The JSON and text reports use
/// the snake_case names (<c>symlink</c>, <c>special_file</c>, …) as stable codes.
/// </summary>
public enum RlmSkipReason
{
    /// <summary>A symbolic link, not followed because <see cref="RlmDirectoryOptions.FollowLinks"/> is off.</summary>
    Symlink,

    /// <summary>A hidden file or folder (its name starts with <c>.</c>), left out unless <see cref="RlmDirectoryOptions.IncludeHidden"/>; and <c>.git</c>, always.</summary>
    Hidden,

    /// <summary>Excluded by a <c>.gitignore</c>, <c>.ignore</c> or <c>.git/info/exclude</c> rule, unless <see cref="RlmDirectoryOptions.UseIgnoreFiles"/> is off.</summary>
    Ignored,

    /// <summary>A named pipe (FIFO), socket or device: never opened.</summary>
    SpecialFile,

    /// <summary>Binary content (a NUL byte in the first 8,192 bytes, decompressed when the file is gzip; UTF-16 text is not binary).</summary>
    Binary,

    /// <summary>Empty or only white space.</summary>
    Empty,

    /// <summary>Could not be listed or read (permissions, vanished, a broken link).</summary>
    Unreadable,

    /// <summary>A followed link to a folder already being read (a loop, or a second path to the same folder).</summary>
    Cycle,

    /// <summary>The file did not fit in what was left of the corpus's <see cref="RlmCorpus.MaxLength"/> characters.</summary>
    TooLarge,

    /// <summary>Compressed in a format that is not read (zstd, bzip2, xz, zip, 7z, lz4; gzip files are decompressed and read).</summary>
    Compressed,
}
