using System.CommandLine;

namespace Rlm.Tools.Cli;

/// <summary>Loading the input options (<c>--file</c>, <c>--dir</c>, <c>--stdin</c>) the same way for every command.</summary>
internal sealed partial class CliOptions
{
    /// <summary>
    /// Loads --file, --dir or --stdin with the same checks and messages for every command (<c>rlm chat</c> and <c>rlm mcp</c>
    /// have no --stdin); with <paramref name="namedDocuments"/>, one file too is a document named by its path.
    /// </summary>
    public async Task<CliInput> LoadInputAsync(ParseResult parseResult, CancellationToken cancellationToken, bool namedDocuments = false)
    {
        var files = parseResult.GetValue(Files) ?? [];
        string? dir = parseResult.GetValue(Dir);
        var globs = parseResult.GetValue(Globs) ?? [];
        var iglobs = parseResult.GetValue(IGlobs) ?? [];
        bool stdin = parseResult.GetValue(Stdin);

        var given = new List<string>();
        if (parseResult.GetResult(Files) is not null)
        {
            given.Add("--file");
        }

        if (parseResult.GetResult(Dir) is not null)
        {
            given.Add("--dir");
        }

        if (stdin)
        {
            given.Add("--stdin");
        }

        if (given.Count == 0)
        {
            throw new CliUsageException("no input: give --file PATH, --dir PATH or --stdin (see rlm --help)");
        }

        if (given.Count > 1)
        {
            throw new CliUsageException($"give exactly one input source, not {string.Join(" and ", given)}");
        }

        if ((globs.Length > 0 || iglobs.Length > 0) && dir is null)
        {
            throw new CliUsageException($"{(globs.Length > 0 ? "--glob" : "--iglob")} works only with --dir");
        }

        var walk = new RlmDirectoryOptions
        {
            FollowLinks = parseResult.GetValue(Follow),
            IncludeHidden = parseResult.GetValue(Hidden),
            UseIgnoreFiles = !parseResult.GetValue(NoIgnore),
        };
        foreach (var glob in globs)
        {
            walk.Globs.Add(glob);
        }

        foreach (var glob in iglobs)
        {
            walk.CaseInsensitiveGlobs.Add(glob);
        }

        if (dir is null && WalkOptions.FirstOrDefault(o => parseResult.GetResult(o) is { Implicit: false }) is { } walkOnly)
        {
            throw new CliUsageException($"{walkOnly.Name} works only with --dir");
        }

        if (dir is not null && string.IsNullOrWhiteSpace(dir))
        {
            throw new CliUsageException("--dir needs a directory path");
        }

        // On a worker thread, awaited with the token: opening a FIFO with no writer, or reading a pipe or terminal, blocks
        // in the operating system and does not observe the token; Ctrl+C must still end the command (the blocked thread is a
        // pool thread and does not keep the process alive). Building the corpus (the joined context) happens there too.
        return await Task.Run(
            () =>
            {
                try
                {
                    var input = files.Length > 0 ? InputLoader.LoadFiles(files, cancellationToken)
                        : dir is not null ? InputLoader.LoadDirectory(dir, walk, cancellationToken)
                        : InputLoader.LoadStdin(cancellationToken);
                    if (namedDocuments && files.Length == 1 && input.Context is { } text)
                    {
                        input = new CliInput { Documents = [new RlmDocument(files[0], text, input.Decodings.Select(d => d.Decoding).FirstOrDefault())], Source = input.Source };
                    }

                    _ = input.Corpus;
                    return input;
                }
                catch (OutOfMemoryException)
                {
                    // Under the one-string limit, yet more than this machine's memory holds (the text, then the joined context).
                    throw new CliUsageException("not enough memory to hold the input: give less of it (fewer files, a --glob)");
                }
            },
            cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
