using Rlm.Tools.Context;

namespace Rlm.Tools.Tests.Context;

/// <summary>The one directory loader of <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/> and <c>rlm --dir</c>.</summary>
public sealed class DirectoryLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rlm-dirloader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FromDirectory_SkipsGitBinaryAndEmpty_ReadsBinObj_GlobWithoutSlashMatchesAtAnyDepth()
    {
        Write("docs/guide.md", "# Guide\n");
        Write("top.md", "top\n");
        Write("obj/cache.md", "generated\n"); // no .gitignore here: read, as ripgrep would
        Write(".git/notes.md", "git\n");
        Write("docs/empty.md", "  \n");
        File.WriteAllBytes(Path.Combine(_dir, "docs", "image.md"), [0x41, 0, 0x42]);

        var corpus = RlmCorpus.FromDirectory(_dir, "*.md");

        Assert.Equal(["docs/guide.md", "obj/cache.md", "top.md"], corpus.DocumentNames);
        Assert.Equal(
            [(".git", RlmSkipReason.Hidden), ("docs/empty.md", RlmSkipReason.Empty), ("docs/image.md", RlmSkipReason.Binary)],
            corpus.Skipped.Select(s => (s.Path, s.Reason)).Order());
    }

    [Theory]
    [InlineData("../*.md", "may not contain '..'")]
    [InlineData(" ", "a glob pattern is empty")]
    [InlineData("*.nothing", "no files under")]
    public void FromDirectory_BadOrUnmatchedGlob_IsAnArgumentExceptionWithAMessageToShow(string glob, string expected)
    {
        Write("a.md", "a\n");

        var e = Assert.Throws<ArgumentException>(() => RlmCorpus.FromDirectory(_dir, glob));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AFileThatDoesNotFit_IsSkippedAsTooLarge_TheRestLoads()
    {
        Write("a.txt", new string('a', 100));
        Write("b.txt", new string('b', 100));

        var load = DirectoryLoader.Load(_dir, new RlmDirectoryOptions(), 150, CancellationToken.None);

        Assert.Equal("a.txt", Assert.Single(load.Documents).Name);
        Assert.Equal(("b.txt", RlmSkipReason.TooLarge), load.Skipped.Listed.Select(s => (s.Path, s.Reason)).Single());
    }

    [Fact]
    public void Load_NothingFits_IsAnArgumentExceptionThatSaysWhy()
    {
        Write("a.txt", new string('a', 100));

        var e = Assert.Throws<ArgumentException>(() => DirectoryLoader.Load(_dir, new RlmDirectoryOptions(), 50, CancellationToken.None));

        Assert.Contains("1 too_large", e.Message, StringComparison.Ordinal);
    }

    private void Write(string relative, string text)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
