using Rlm.Tools.Context;

namespace Rlm.Tools.Tests.Context;

/// <summary>The one directory loader of <see cref="RlmCorpus.FromDirectory"/> and <c>rlm --dir</c>.</summary>
public sealed class DirectoryLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rlm-dirloader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FromDirectory_SkipsBinObjGitBinaryAndEmpty_GlobWithoutSlashMatchesAtAnyDepth()
    {
        Write("docs/guide.md", "# Guide\n");
        Write("top.md", "top\n");
        Write("obj/cache.md", "generated\n");
        Write("src/bin/out.md", "built\n");
        Write(".git/notes.md", "git\n");
        Write("docs/empty.md", "  \n");
        File.WriteAllBytes(Path.Combine(_dir, "docs", "image.md"), [0x41, 0, 0x42]);

        var corpus = RlmCorpus.FromDirectory(_dir, "*.md");
        var load = DirectoryLoader.Load(_dir, ["*.md"], RlmCorpus.MaxLength, CancellationToken.None);

        Assert.Equal(["docs/guide.md", "top.md"], corpus.DocumentNames);
        Assert.Equal(["docs/empty.md (empty)", "docs/image.md (binary)"], load.Skipped.Order(StringComparer.Ordinal));
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
    public void Load_OverTheLengthLimit_IsRefusedWithTheLimit()
    {
        Write("a.txt", new string('a', 100));
        Write("b.txt", new string('b', 100));

        var e = Assert.Throws<ArgumentException>(() => DirectoryLoader.Load(_dir, [], 150, CancellationToken.None));

        Assert.StartsWith("the input is too large for one context: the files under ", e.Message, StringComparison.Ordinal);
        Assert.Contains("more than 150 characters", e.Message, StringComparison.Ordinal);
    }

    private void Write(string relative, string text)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
