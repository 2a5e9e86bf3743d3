namespace Rlm.Tools.Tests.Context;

/// <summary>
/// <see cref="RlmDirectoryOptions.Globs"/> and <see cref="RlmDirectoryOptions.CaseInsensitiveGlobs"/> with ripgrep's
/// <c>--glob</c>/<c>--iglob</c> semantics, on a real directory through <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/>.
/// </summary>
public sealed class GlobFilterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rlm-globs-").FullName;

    public GlobFilterTests()
    {
        foreach (string path in new[]
        {
            "README.md", "NOTES.MD", "build.sh", "src/App.cs", "src/App.Tests.cs", "src/view/Page.cshtml", "src/view/page.md",
            "docs/guide.md", "docs/api/index.md", "tests/AppTests.cs", "tests/data/sample.json", "#hash.txt",
        })
        {
            string full = Path.Combine(_dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, $"contents of {path}\n");
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Names(string[] globs, string[]? iglobs = null)
    {
        var options = new RlmDirectoryOptions();
        foreach (var g in globs)
        {
            options.Globs.Add(g);
        }

        foreach (var g in iglobs ?? [])
        {
            options.CaseInsensitiveGlobs.Add(g);
        }

        return [.. RlmCorpus.FromDirectory(_dir, options).DocumentNames];
    }

    [Fact]
    public void AGlobWithoutSlash_MatchesTheNameAtAnyDepth()
        => Assert.Equal(["src/App.Tests.cs", "src/App.cs", "tests/AppTests.cs"], Names(["*.cs"]));

    [Fact]
    public void SeveralGlobs_AreAlternatives()
        => Assert.Equal(["build.sh", "tests/data/sample.json"], Names(["*.sh", "*.json"]));

    [Fact]
    public void Braces_Alternate_NestedToo()
    {
        Assert.Equal(["README.md", "docs/api/index.md", "docs/guide.md", "src/App.Tests.cs", "src/App.cs", "src/view/page.md", "tests/AppTests.cs"], Names(["*.{cs,md}"]));
        Assert.Equal(["src/view/Page.cshtml", "tests/data/sample.json"], Names(["*.{cs{html},json}"]));
    }

    [Fact]
    public void AnExclusionAlone_KeepsEverythingElse()
    {
        string[] names = Names(["!*.md"]);
        Assert.DoesNotContain(names, n => n.EndsWith(".md", StringComparison.Ordinal));
        Assert.Contains("NOTES.MD", names); // case-sensitive: *.md does not match .MD
        Assert.Contains("build.sh", names);
    }

    [Fact]
    public void LaterGlobsOverrideEarlierOnes()
    {
        Assert.Equal(["src/App.cs", "tests/AppTests.cs"], Names(["*.cs", "!*.Tests.cs"]));
        // An exclusion first and an inclusion after it: the inclusion wins for what it matches.
        Assert.Equal(["src/App.Tests.cs", "src/App.cs", "tests/AppTests.cs"], Names(["!*.Tests.cs", "*.cs"]));
    }

    [Fact]
    public void AnExcludedFolder_IsLeftOutWhole_AnAnchoredGlobMatchesAtTheTopOnly()
    {
        Assert.Equal(["src/App.Tests.cs", "src/App.cs"], Names(["*.cs", "!tests"]));
        Assert.Equal(["README.md"], Names(["/*.md"]));
        Assert.Equal(["docs/api/index.md", "docs/guide.md"], Names(["docs/**"]));
        Assert.Equal(["src/App.Tests.cs", "src/App.cs"], Names(["src/*.cs"]));
    }

    [Fact]
    public void IGlob_IsCaseInsensitive_AndCountsAfterTheGlobs()
    {
        Assert.Equal(["NOTES.MD", "README.md", "docs/api/index.md", "docs/guide.md", "src/view/page.md"], Names([], ["*.md"]));
        Assert.Equal(["README.md", "docs/api/index.md", "docs/guide.md", "src/view/page.md"], Names(["*.md"]));
        // The --iglob exclusion comes after the --glob inclusion, so it wins.
        Assert.Equal(["NOTES.MD", "README.md", "docs/guide.md", "src/view/page.md"], Names(["*.{md,MD}"], ["!INDEX.md"]));
    }

    [Fact]
    public void AGlobStartingWithHash_IsAName_NotAComment()
        => Assert.Equal(["#hash.txt"], Names(["#*.txt"]));

    [Theory]
    [InlineData("*.{cs", "'{' without '}'")]
    [InlineData("*.cs}", "'}' without '{'")]
    [InlineData("!", "a glob pattern is empty")]
    [InlineData("src/../*.cs", "may not contain '..'")]
    public void ABadGlob_IsAnArgumentExceptionThatSaysWhy(string glob, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => Names([glob]));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
