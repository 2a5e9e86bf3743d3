using System.Diagnostics;

namespace Rlm.Tools.Tests.Context;

/// <summary>
/// The directory walk of <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/> on real trees: real symbolic
/// links, FIFOs, devices, hidden files and ignore files. Every load runs under a 30 s bound, so a hang fails the test.
/// </summary>
public sealed class DirectoryWalkerTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("rlm-walker-").FullName;
    private readonly string _dir;
    private readonly string _outside;

    public DirectoryWalkerTests()
    {
        _dir = Path.Combine(_base, "root");
        _outside = Path.Combine(_base, "outside");
        Directory.CreateDirectory(_dir);
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "creds.txt"), "password=hunter2\n");
        Write("readme.md", "the readme\n");
    }

    public void Dispose()
    {
        // Undo a chmod 000 so the folder can be deleted.
        foreach (var path in Directory.EnumerateFileSystemEntries(_base, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (!OperatingSystem.IsWindows() && File.ResolveLinkTarget(path, false) is null)
            {
                try
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
                catch (IOException)
                {
                }
            }
        }

        Directory.Delete(_base, recursive: true);
    }

    [Fact]
    public async Task Links_AreNotFollowedByDefault_ALinkOutOfTheDirectoryIsNotRead()
    {
        Directory.CreateSymbolicLink(Path.Combine(_dir, "shared"), _outside);
        File.CreateSymbolicLink(Path.Combine(_dir, "creds-link.txt"), Path.Combine(_outside, "creds.txt"));

        var corpus = await LoadAsync(new RlmDirectoryOptions());

        Assert.Equal(["readme.md"], corpus.DocumentNames);
        Assert.DoesNotContain("hunter2", corpus.Text.Text, StringComparison.Ordinal);
        Assert.Equal(2, corpus.SkippedCounts[RlmSkipReason.Symlink]);
        Assert.Contains(corpus.Skipped, s => s is { Path: "shared", Reason: RlmSkipReason.Symlink });
    }

    [Fact]
    public async Task FollowLinks_ReadsALinkedFolder_AndALoopIsReadOnce()
    {
        Directory.CreateSymbolicLink(Path.Combine(_dir, "shared"), _outside);
        Write("sub/note.txt", "a note\n");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "sub", "up"), _dir); // a link to an ancestor
        Directory.CreateSymbolicLink(Path.Combine(_dir, "loop-a"), Path.Combine(_dir, "loop-b")); // a link loop
        Directory.CreateSymbolicLink(Path.Combine(_dir, "loop-b"), Path.Combine(_dir, "loop-a"));

        var corpus = await LoadAsync(new RlmDirectoryOptions { FollowLinks = true });

        Assert.Equal(["readme.md", "shared/creds.txt", "sub/note.txt"], corpus.DocumentNames);
        Assert.Contains(corpus.Skipped, s => s is { Path: "sub/up/", Reason: RlmSkipReason.Cycle });
        Assert.Contains(corpus.Skipped, s => s is { Path: "loop-a", Reason: RlmSkipReason.Cycle });
    }

    [Fact]
    public async Task FollowLinks_TwoLinksToOneFolder_ReadItOnce()
    {
        Directory.CreateSymbolicLink(Path.Combine(_dir, "a"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_dir, "b"), _outside);

        var corpus = await LoadAsync(new RlmDirectoryOptions { FollowLinks = true });

        Assert.Equal(["a/creds.txt", "readme.md"], corpus.DocumentNames);
        Assert.Contains(corpus.Skipped, s => s is { Path: "b/", Reason: RlmSkipReason.Cycle });
    }

    [Fact]
    public async Task AFifo_IsSkippedWithoutBeingOpened_WithOrWithoutFollow()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no FIFOs
        }

        MakeFifo(Path.Combine(_dir, "pipe"));
        File.CreateSymbolicLink(Path.Combine(_dir, "pipe-link"), Path.Combine(_dir, "pipe"));

        var plain = await LoadAsync(new RlmDirectoryOptions());
        var followed = await LoadAsync(new RlmDirectoryOptions { FollowLinks = true });

        Assert.Equal(["readme.md"], plain.DocumentNames);
        Assert.Equal(["readme.md"], followed.DocumentNames);
        Assert.Contains(plain.Skipped, s => s is { Path: "pipe", Reason: RlmSkipReason.SpecialFile } && s.Detail.Contains("FIFO", StringComparison.Ordinal));
        Assert.Equal(2, followed.SkippedCounts[RlmSkipReason.SpecialFile]);
    }

    [Fact]
    public void TheFallbackProbe_WithoutStatx_StillTellsAFifoAndDevZeroFromATextFile()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        MakeFifo(Path.Combine(_dir, "pipe"));
        File.CreateSymbolicLink(Path.Combine(_dir, "zero"), "/dev/zero");

        // Zero bytes and not a directory: never opened, whatever it is (an empty file, a FIFO, a device).
        Assert.Equal(Rlm.Tools.Context.EntryKind.EmptyOrSpecial, Rlm.Tools.Context.FileProbe.ProbeManaged(Path.Combine(_dir, "pipe"), followLinks: false).Kind);
        Assert.Equal(Rlm.Tools.Context.EntryKind.Link, Rlm.Tools.Context.FileProbe.ProbeManaged(Path.Combine(_dir, "zero"), followLinks: false).Kind);
        Assert.Equal(Rlm.Tools.Context.EntryKind.EmptyOrSpecial, Rlm.Tools.Context.FileProbe.ProbeManaged(Path.Combine(_dir, "zero"), followLinks: true).Kind);
        Assert.Equal(Rlm.Tools.Context.EntryKind.Regular, Rlm.Tools.Context.FileProbe.ProbeManaged(Path.Combine(_dir, "readme.md"), followLinks: false).Kind);
    }

    [Fact]
    public async Task OpenRegular_AFileReplacedByAFifoOrALink_IsNotOpenedThrough_AndNeverBlocks()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        MakeFifo(Path.Combine(_dir, "pipe"));
        File.CreateSymbolicLink(Path.Combine(_dir, "link"), Path.Combine(_outside, "creds.txt"));

        // As if each had been a regular file when listed: the open must neither block on the FIFO nor pass the link.
        var pipe = await Task.Run(() => Rlm.Tools.Context.FileProbe.OpenRegular(Path.Combine(_dir, "pipe"), followLinks: false)).WaitAsync(TimeSpan.FromSeconds(30));
        var link = Rlm.Tools.Context.FileProbe.OpenRegular(Path.Combine(_dir, "link"), followLinks: false);
        using var followed = Rlm.Tools.Context.FileProbe.OpenRegular(Path.Combine(_dir, "link"), followLinks: true);
        using var regular = Rlm.Tools.Context.FileProbe.OpenRegular(Path.Combine(_dir, "readme.md"), followLinks: false);

        Assert.Null(pipe);
        Assert.Null(link);
        Assert.NotNull(followed);
        Assert.Equal("the readme\n", new StreamReader(regular!).ReadToEnd());
    }

    [Fact]
    public async Task ALinkToDevZero_WithFollow_IsSkippedWithoutReading()
    {
        if (!File.Exists("/dev/zero"))
        {
            return;
        }

        File.CreateSymbolicLink(Path.Combine(_dir, "zero"), "/dev/zero");

        var corpus = await LoadAsync(new RlmDirectoryOptions { FollowLinks = true });

        Assert.Equal(["readme.md"], corpus.DocumentNames);
        var skip = Assert.Single(corpus.Skipped, s => s.Path == "zero");
        Assert.Equal(RlmSkipReason.SpecialFile, skip.Reason);
        Assert.Contains("character device", skip.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HiddenFilesAndFolders_AreSkippedUnlessIncludeHidden_GitNever()
    {
        Write(".env", "API_KEY=secret\n");
        Write(".config/settings.txt", "setting\n");
        Write(".git/HEAD", "ref: refs/heads/main\n");

        var plain = await LoadAsync(new RlmDirectoryOptions());
        var hidden = await LoadAsync(new RlmDirectoryOptions { IncludeHidden = true });

        Assert.Equal(["readme.md"], plain.DocumentNames);
        Assert.Equal(3, plain.SkippedCounts[RlmSkipReason.Hidden]);
        Assert.Equal([".config/settings.txt", ".env", "readme.md"], hidden.DocumentNames);
        Assert.Contains(hidden.Skipped, s => s is { Path: ".git", Reason: RlmSkipReason.Hidden });
    }

    [Fact]
    public async Task IgnoreFiles_NestedNegatedAnchoredAndDirOnly_ApplyAsGitDoes()
    {
        Write(".gitignore", "*.log\n/build\ncache/\n!keep.log\ndeep/**/x.txt\n");
        Write(".ignore", "!app2.log\n"); // .ignore wins over .gitignore in the same folder
        Write("app2.log", "re-included by .ignore\n");
        Write("deep/a/b/x.txt", "matched by **\n");
        Write("deep/y.txt", "not matched\n");
        Write("app.log", "log\n");
        Write("keep.log", "kept\n");
        Write("build/out.txt", "built\n");
        Write("src/build/code.txt", "not anchored: read\n");
        Write("src/cache", "a file named cache: read\n");
        Write("src/cache2/cache/x.txt", "dir-only: skipped\n");
        Write("src/.gitignore", "*.tmp\n!important.log\n");
        Write("src/a.tmp", "tmp\n");
        Write("src/important.log", "re-included by a deeper file\n");
        Write("docs/.ignore", "draft.md\n");
        Write("docs/draft.md", "draft\n");
        Write("docs/final.md", "final\n");
        Write("other/a.tmp", "the nested rule does not reach here\n");

        var corpus = await LoadAsync(new RlmDirectoryOptions());
        var all = await LoadAsync(new RlmDirectoryOptions { UseIgnoreFiles = false });

        Assert.Equal(
            ["app2.log", "deep/y.txt", "docs/final.md", "keep.log", "other/a.tmp", "readme.md", "src/build/code.txt", "src/cache", "src/important.log"],
            corpus.DocumentNames);
        Assert.Contains(corpus.Skipped, s => s is { Path: "build/", Reason: RlmSkipReason.Ignored } && s.Detail.Contains(".gitignore: /build", StringComparison.Ordinal));
        Assert.Contains(corpus.Skipped, s => s is { Path: "src/cache2/cache/", Reason: RlmSkipReason.Ignored });
        Assert.Contains("app.log", all.DocumentNames);
        Assert.Contains("docs/draft.md", all.DocumentNames);
        Assert.Contains("build/out.txt", all.DocumentNames);
    }

    [Fact]
    public async Task GitInfoExclude_LeavesPathsOut()
    {
        Write(".git/info/exclude", "secret.txt\n");
        Write("secret.txt", "excluded\n");

        var corpus = await LoadAsync(new RlmDirectoryOptions());

        Assert.Equal(["readme.md"], corpus.DocumentNames);
        Assert.Contains(corpus.Skipped, s => s is { Path: "secret.txt", Reason: RlmSkipReason.Ignored });
    }

    [Fact]
    public async Task IgnoreFilesAboveTheRoot_ApplyInsideAGitWorkTree_AsRipgrepReadsThem()
    {
        // The root is <work tree>/root: the work tree's .gitignore names paths relative to the work tree.
        Directory.CreateDirectory(Path.Combine(_base, ".git", "info"));
        File.WriteAllText(Path.Combine(_base, ".gitignore"), "bin/\n/root/private.txt\n");
        File.WriteAllText(Path.Combine(_base, ".git", "info", "exclude"), "*.log\n");
        Write("bin/x.txt", "build output\n");
        Write("private.txt", "anchored at the work tree\n");
        Write("sub/private.txt", "not the anchored one\n");
        Write("run.log", "a log\n");

        var corpus = await LoadAsync(new RlmDirectoryOptions());
        var all = await LoadAsync(new RlmDirectoryOptions { UseIgnoreFiles = false });

        Assert.Equal(["readme.md", "sub/private.txt"], corpus.DocumentNames);
        Assert.Contains(corpus.Skipped, s => s is { Path: "bin/", Reason: RlmSkipReason.Ignored } && s.Detail.Contains(".gitignore: bin/", StringComparison.Ordinal));
        Assert.Contains(corpus.Skipped, s => s is { Path: "private.txt", Reason: RlmSkipReason.Ignored });
        Assert.Contains(corpus.Skipped, s => s is { Path: "run.log", Reason: RlmSkipReason.Ignored });
        Assert.Equal(["bin/x.txt", "private.txt", "readme.md", "run.log", "sub/private.txt"], all.DocumentNames);
    }

    [Fact]
    public async Task IgnoreFilesAboveTheRoot_OutsideAGitWorkTree_AreNotRead()
    {
        File.WriteAllText(Path.Combine(_base, ".gitignore"), "*.txt\n");
        Write("notes.txt", "notes\n");

        var corpus = await LoadAsync(new RlmDirectoryOptions());

        Assert.Equal(["notes.txt", "readme.md"], corpus.DocumentNames);
    }

    [Fact]
    public async Task GlobsApplyOnTopOfTheWalk()
    {
        Write("a.md", "a\n");
        Write(".hidden.md", "hidden\n");
        Write("notes.txt", "notes\n");
        var options = new RlmDirectoryOptions();
        options.Globs.Add("*.md");

        var corpus = await LoadAsync(options);

        Assert.Equal(["a.md", "readme.md"], corpus.DocumentNames);
    }

    [Fact]
    public async Task AnUnreadableFileOrFolder_IsSkipped_TheRestLoads()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Write("locked.txt", "locked\n");
        Write("closed/inner.txt", "inner\n");
        File.SetUnixFileMode(Path.Combine(_dir, "locked.txt"), UnixFileMode.None);
        File.SetUnixFileMode(Path.Combine(_dir, "closed"), UnixFileMode.None);

        var corpus = await LoadAsync(new RlmDirectoryOptions());

        Assert.Contains("readme.md", corpus.DocumentNames);
        if (CanStillRead(Path.Combine(_dir, "locked.txt")))
        {
            // Running as root: permissions do not stop reads, so there is nothing unreadable to skip (checked honestly).
            Assert.Contains("locked.txt", corpus.DocumentNames);
            return;
        }

        Assert.Equal(["readme.md"], corpus.DocumentNames);
        Assert.Contains(corpus.Skipped, s => s is { Path: "locked.txt", Reason: RlmSkipReason.Unreadable });
        Assert.Contains(corpus.Skipped, s => s is { Path: "closed/", Reason: RlmSkipReason.Unreadable });
    }

    [Fact]
    public async Task ManySkips_AreAllCounted_ButAtMost50PerReasonListed()
    {
        for (int i = 0; i < 60; i++)
        {
            Write($".h{i:D2}", "hidden\n");
        }

        var corpus = await LoadAsync(new RlmDirectoryOptions());

        Assert.Equal(60, corpus.SkippedCounts[RlmSkipReason.Hidden]);
        Assert.Equal(50, corpus.Skipped.Count(s => s.Reason == RlmSkipReason.Hidden));
    }

    [Fact]
    public void DirectoryOptions_HaveRipgrepsDefaults()
    {
        var options = new RlmDirectoryOptions();

        Assert.False(options.FollowLinks);
        Assert.False(options.IncludeHidden);
        Assert.True(options.UseIgnoreFiles);
        Assert.Empty(options.Globs);
    }

    private static bool CanStillRead(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    private Task<RlmCorpus> LoadAsync(RlmDirectoryOptions options) =>
        Task.Run(() => RlmCorpus.FromDirectory(_dir, options)).WaitAsync(TimeSpan.FromSeconds(30));

    private void Write(string relative, string text)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
