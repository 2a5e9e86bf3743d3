using System.Globalization;

namespace Rlm.Tools.Context;

/// <summary>The documents read from a directory, and what was left out (with the reason).</summary>
/// <param name="Documents">The text files, named by relative path with <c>/</c>, in ordinal order.</param>
/// <param name="Skipped">What the walk and the reading left out: counts per reason and the first paths of each.</param>
internal sealed record DirectoryLoad(IReadOnlyList<RlmDocument> Documents, SkipLog Skipped);

/// <summary>
/// Reads the text files under a directory as named documents: the one loader behind <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/>,
/// <c>rlm --dir</c>, <c>rlm chat --dir</c> and <c>rlm mcp --dir</c>. The walk (<see cref="DirectoryWalker"/>) decides which
/// files are candidates; the globs then choose among them; a file that cannot be read is skipped, never the whole load.
/// Every mistake of the caller (a bad glob, nothing loaded) is an <see cref="ArgumentException"/> whose message can be
/// shown as it is.
/// </summary>
internal static class DirectoryLoader
{
    /// <summary>The glob used when none is given.</summary>
    public const string DefaultGlob = "**/*";

    /// <summary>
    /// Reads every text file the walk reaches under <paramref name="directory"/> that matches the globs of
    /// <paramref name="options"/> (none: <see cref="DefaultGlob"/>), sorted ordinally by relative path. What is left out
    /// is recorded with its reason. Files that no longer fit in <paramref name="maxLength"/> characters (headers included)
    /// are skipped as too large.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="ArgumentException">A glob is empty, invalid or leaves the directory; or no text file was loaded.</exception>
    /// <exception cref="IOException">The directory itself cannot be listed.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory itself may not be listed.</exception>
    /// <param name="directory">The directory.</param>
    /// <param name="options">The walk and the globs.</param>
    /// <param name="maxLength">The most characters of the joined context.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <param name="namePrefix">Put before every document name and skipped path (<c>rlm --dir src</c>: <c>src/</c>, so a citation
    /// opens from where the command ran); the globs still match the path relative to the directory.</param>
    public static DirectoryLoad Load(string directory, RlmDirectoryOptions options, long maxLength, CancellationToken cancellationToken, string namePrefix = "")
    {
        var globs = options.Globs.Select(g => (g, false)).Concat(options.CaseInsensitiveGlobs.Select(g => (g, true))).ToList();
        var filter = new GlobFilter(globs);
        var skipped = new SkipLog { PathPrefix = namePrefix };
        var walked = new DirectoryWalker(options, skipped).Walk(directory, cancellationToken);
        List<WalkedFile> chosen = [.. walked.Where(f => filter.Includes(f.RelativePath))];
        chosen.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        var documents = new List<RlmDocument>(chosen.Count);
        long total = 0;
        foreach (var file in chosen)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = DocumentName(namePrefix + file.RelativePath);
            long budget = maxLength - total - HeaderChars(name);
            if (budget <= 0)
            {
                skipped.Add(file.RelativePath, RlmSkipReason.TooLarge, TooLargeDetail(maxLength));
                continue;
            }

            LoadedText loaded;
            try
            {
                using var stream = FileProbe.OpenRegular(file.FullPath, options.FollowLinks);
                if (stream is null)
                {
                    skipped.Add(file.RelativePath, RlmSkipReason.Unreadable, "changed while loading (now a link, pipe or device): not read");
                    continue;
                }

                loaded = TextFileReader.ReadText(stream, budget, cancellationToken);
            }
            catch (ArgumentException)
            {
                skipped.Add(file.RelativePath, RlmSkipReason.TooLarge, TooLargeDetail(maxLength));
                continue;
            }
            catch (InvalidDataException e)
            {
                skipped.Add(file.RelativePath, RlmSkipReason.Unreadable, $"corrupt compressed data: {TextLimits.OneLine(e.Message, 200)}");
                continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException or System.Text.DecoderFallbackException)
            {
                skipped.Add(file.RelativePath, RlmSkipReason.Unreadable, TextLimits.OneLine(e.Message, 200));
                continue;
            }

            if (loaded.Text is not { } text)
            {
                skipped.Add(file.RelativePath, loaded.IsBinary ? RlmSkipReason.Binary : RlmSkipReason.Compressed, TextFileReader.NotTextDetail(loaded));
                continue;
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                skipped.Add(file.RelativePath, RlmSkipReason.Empty, "only white space");
                continue;
            }

            total += HeaderChars(name) + text.Length;
            documents.Add(new RlmDocument(name, text, loaded.Decoding));
        }

        if (documents.Count == 0)
        {
            string globText = filter.IsEmpty ? DefaultGlob : filter.ToString();
            string why = skipped.Total > 0 ? $"; skipped: {SkipLog.Summary(skipped.Counts)}" : string.Empty;
            throw new ArgumentException(chosen.Count == 0
                ? $"no files under {directory} match {globText}{why}"
                : $"no readable text file under {directory} matches {globText}{why}");
        }

        return new DirectoryLoad(documents, skipped);
    }

    /// <summary>The message for an input over <paramref name="maxLength"/> characters.</summary>
    public static string TooLargeMessage(string what, long maxLength = RlmCorpus.MaxLength) => string.Create(CultureInfo.InvariantCulture,
        $"the input is too large for one context: {what} hold{(what.StartsWith("the ", StringComparison.Ordinal) ? "" : "s")} more than {maxLength:N0} characters (the longest .NET string, document headers included)");

    /// <summary>The characters a document adds to the joined context besides its text: its header line and, at most, one line break.</summary>
    public static long HeaderChars(string name) => "==> ".Length + name.Length + " <==\n".Length + 1;

    /// <summary>A document name may not hold a line break; such (rare) characters in a path become <c>?</c>.</summary>
    public static string DocumentName(string path) =>
        path.AsSpan().IndexOfAny('\r', '\n') >= 0 ? path.Replace('\r', '?').Replace('\n', '?') : path;

    private static string TooLargeDetail(long maxLength) => string.Create(CultureInfo.InvariantCulture,
        $"does not fit in what is left of the {maxLength:N0}-character context (document headers included)");
}
