using System.IO.Compression;
using System.Text;

namespace Rlm.Tools.Tests.Context;

/// <summary>
/// Files written on disk in the encodings people have (Latin-1, Windows-1252, UTF-16 without a byte order mark, gzip),
/// read through every public way in: <see cref="RlmTextLoader"/>, <see cref="RlmCorpus.FromFile"/> and
/// <see cref="RlmCorpus.FromDirectory(string, RlmDirectoryOptions)"/>; and through a pipe (a stream that cannot seek).
/// </summary>
public sealed class EncodingDetectionTests : IDisposable
{
    private const string French = "Le café crème à Zürich coûte 5 francs.\nLa gare de Zürich est grande.\n";

    private static readonly Encoding s_windows1252 = CodePagesEncodingProvider.Instance.GetEncoding(1252)!;

    private readonly string _dir = Directory.CreateTempSubdirectory("rlm-encoding-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    public static TheoryData<string> Legacy => new() { "latin-1", "windows-1252" };

    [Theory]
    [MemberData(nameof(Legacy))]
    public async Task LegacyFile_IsDecodedWithAGuessedEncoding_SoZurichMatches(string encoding)
    {
        byte[] bytes = (encoding == "latin-1" ? Encoding.Latin1 : s_windows1252).GetBytes(French);
        string path = Write("notes.txt", bytes);

        var document = RlmTextLoader.ReadDocument(path);
        Assert.Equal(French, document.Text);
        Assert.Equal(new RlmTextDecoding("windows-1252", true, 0, null), document.Decoding);
        Assert.Equal(French, RlmTextLoader.ReadFile(path));
        Assert.Equal(French, await RlmTextLoader.ReadStreamAsync(new PipeStream(bytes)));
        Assert.Contains("Zürich", RlmCorpus.FromFile(path).Documents[0].Text);

        var result = await new RecursiveLanguageModel(new OfflineChatClient()).QueryAsync("Where does the café crème cost 5 francs? Zürich?", RlmCorpus.FromFile(path));
        Assert.Contains("Zürich coûte 5 francs", result.Answer);
    }

    [Fact]
    public void Windows1252Punctuation_IsDecodedAsQuotesAndDashes_NotControlCharacters()
    {
        string text = "He said “Zürich” – it costs €5 … really.\n";
        string path = Write("quotes.txt", s_windows1252.GetBytes(text));

        Assert.Equal(text, RlmTextLoader.ReadFile(path));
    }

    [Fact]
    public async Task LegacyBytesAfterMegabytesOfAscii_AreStillDecodedWithTheGuess_FromAFileAndAPipe()
    {
        string text = string.Concat(Enumerable.Repeat("plain ascii log line\n", 150_000)) + French; // ~3 MB before the first é
        byte[] bytes = Encoding.Latin1.GetBytes(text);
        string path = Write("late.log", bytes);

        Assert.Equal(text, RlmTextLoader.ReadFile(path));
        Assert.Equal(text, await RlmTextLoader.ReadStreamAsync(new PipeStream(bytes)));
        Assert.True(RlmTextLoader.ReadDocument(path).Decoding!.IsGuessed);
    }

    [Fact]
    public void Utf8WithAStrayByte_StaysUtf8_AndCountsTheReplacedByte()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes("Zürich, Genève, Köln\n"), .. "bad "u8, 0xFF, .. " byte\n"u8];
        string path = Write("mixed.txt", bytes);

        var document = RlmTextLoader.ReadDocument(path);

        Assert.Equal("Zürich, Genève, Köln\nbad \uFFFD byte\n", document.Text);
        Assert.Equal(new RlmTextDecoding("utf-8", false, 1, null), document.Decoding);
        Assert.True(document.Decoding!.IsNoteworthy);
    }

    [Fact]
    public void CleanUtf8_IsNotNoteworthy()
    {
        string path = Write("clean.txt", Encoding.UTF8.GetBytes("Zürich\n"));

        Assert.Equal(RlmTextDecoding.Utf8, RlmTextLoader.ReadDocument(path).Decoding);
        Assert.False(RlmTextLoader.ReadDocument(path).Decoding!.IsNoteworthy);
    }

    [Theory]
    [InlineData(false, "utf-16le")]
    [InlineData(true, "utf-16be")]
    public async Task Utf16WithoutByteOrderMark_IsReadAsText_NotRefusedAsBinary(bool bigEndian, string name)
    {
        string text = "Hello Zürich, written by a Windows tool.\r\nSecond line.\r\n";
        byte[] bytes = new UnicodeEncoding(bigEndian, byteOrderMark: false).GetBytes(text);
        string path = Write($"{name}.txt", bytes);

        Assert.Equal(text, RlmTextLoader.ReadFile(path));
        Assert.Equal(text, await RlmTextLoader.ReadStreamAsync(new PipeStream(bytes)));
        Assert.Equal(name, RlmTextLoader.ReadDocument(path).Decoding!.Encoding);

        var corpus = RlmCorpus.FromDirectory(_dir);
        Assert.Empty(corpus.Skipped);
        var document = Assert.Single(corpus.Documents);
        Assert.Equal(text, document.Text);
        Assert.Equal(name, document.Decoding!.Encoding);
    }

    [Theory]
    [InlineData(false, "Съешь же ещё этих мягких французских булок, да выпей чаю.\r\nВторая строка.\r\n")]
    [InlineData(true, "Съешь же ещё этих мягких французских булок, да выпей чаю.\r\nВторая строка.\r\n")]
    [InlineData(false, "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.\nΔεύτερη γραμμή.\n")]
    public void Utf16WithoutByteOrderMark_InAnotherScript_IsReadAsText(bool bigEndian, string text)
    {
        string path = Write("other-script.txt", new UnicodeEncoding(bigEndian, byteOrderMark: false).GetBytes(text));

        var document = Assert.Single(RlmCorpus.FromDirectory(_dir).Documents);

        Assert.Equal(text, document.Text);
        Assert.Equal(bigEndian ? "utf-16be" : "utf-16le", document.Decoding!.Encoding);
        Assert.Equal(text, RlmTextLoader.ReadFile(path));
    }

    [Fact]
    public async Task GzipFile_IsDecompressedAndLoadedUnderItsName_EvenWhenLegacyInside()
    {
        byte[] plain = Encoding.Latin1.GetBytes(French);
        Write("changelog.Debian.gz", Gzip(plain));
        Write("readme.txt", "see the changelog\n"u8.ToArray());

        var corpus = RlmCorpus.FromDirectory(_dir);

        Assert.Empty(corpus.Skipped);
        var changelog = corpus.Documents.Single(d => d.Name == "changelog.Debian.gz");
        Assert.Equal(French, changelog.Text);
        Assert.Equal(new RlmTextDecoding("windows-1252", true, 0, "gzip"), changelog.Decoding);
        Assert.Null(corpus.Documents.Single(d => d.Name == "readme.txt").Decoding!.Compression);
        Assert.Equal(French, await RlmTextLoader.ReadStreamAsync(new PipeStream(Gzip(plain))));
        Assert.Equal(French, RlmCorpus.FromFile(Path.Combine(_dir, "changelog.Debian.gz")).Documents[0].Text);
    }

    [Fact]
    public async Task GzipBomb_StopsAtTheCharacterLimitOfTheDecompressedText()
    {
        // 64 MB of text in about 64 KB: refused once the decompressed text passes the limit, not after inflating it all.
        byte[] bomb = Gzip(Encoding.ASCII.GetBytes(new string('a', 64 << 20)));
        Assert.True(bomb.Length < 1 << 20);
        string path = Write("bomb.txt.gz", bomb);

        using var stream = File.OpenRead(path);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => RlmTextLoader.ReadStreamAsync(stream, 1_000_000));

        Assert.Contains("at most 1,000,000", e.Message);
        Assert.True(stream.Position < bomb.Length, "stopped before the end of the compressed file");
    }

    [Theory]
    [InlineData("data.zst", new byte[] { 0x28, 0xB5, 0x2F, 0xFD, 0x04, 0x00, 0x00 }, "zstd")]
    [InlineData("data.xz", new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00 }, "xz")]
    [InlineData("data.zip", new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00 }, "zip")]
    [InlineData("data.bz2", new byte[] { 0x42, 0x5A, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x00 }, "bzip2")]
    public void OtherCompressedFormats_AreReportedAsCompressed_NeverAsBinary(string name, byte[] bytes, string format)
    {
        string path = Write(name, bytes);
        Write("notes.txt", "text\n"u8.ToArray());

        var corpus = RlmCorpus.FromDirectory(_dir);

        var skipped = Assert.Single(corpus.Skipped);
        Assert.Equal(RlmSkipReason.Compressed, skipped.Reason);
        Assert.StartsWith($"{format}-compressed: not read", skipped.Detail);
        Assert.Equal(1, corpus.SkippedCounts[RlmSkipReason.Compressed]);
        var e = Assert.Throws<IOException>(() => RlmCorpus.FromFile(path));
        Assert.Contains($"{format}-compressed", e.Message);
    }

    [Fact]
    public void CorruptGzip_IsSkippedAsUnreadable_AndGivenAsAFileIsAnError()
    {
        byte[] broken = Gzip(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 10_000).Select(i => $"log line {i}\n"))));
        broken.AsSpan(20, broken.Length - 40).Fill(0xFF); // the deflate data garbled, the header intact
        string path = Write("broken.log.gz", broken);
        Write("notes.txt", "text\n"u8.ToArray());

        var skipped = Assert.Single(RlmCorpus.FromDirectory(_dir).Skipped);

        Assert.Equal(RlmSkipReason.Unreadable, skipped.Reason);
        Assert.StartsWith("corrupt compressed data", skipped.Detail);
        Assert.ThrowsAny<Exception>(() => RlmCorpus.FromFile(path));
    }

    [Fact]
    public void BinaryInsideGzip_IsSkippedAsBinary_SayingItWasDecompressed()
    {
        Write("archive.tar.gz", Gzip([.. "file.txt"u8, .. new byte[512]]));
        Write("notes.txt", "text\n"u8.ToArray());

        var skipped = Assert.Single(RlmCorpus.FromDirectory(_dir).Skipped);

        Assert.Equal(RlmSkipReason.Binary, skipped.Reason);
        Assert.Contains("gzip-decompressed", skipped.Detail);
    }

    [Fact]
    public void BinaryWithZeroHighBytes_IsNotTakenForUtf16()
    {
        // 16-bit samples of small values: a zero in every other byte, like UTF-16, but mostly control characters.
        byte[] samples = [.. Enumerable.Range(0, 4096).SelectMany(i => new[] { (byte)(i % 17), (byte)0 })];
        Write("samples.raw", samples);
        Write("notes.txt", "text\n"u8.ToArray());

        var skipped = Assert.Single(RlmCorpus.FromDirectory(_dir).Skipped);

        Assert.Equal(RlmSkipReason.Binary, skipped.Reason);
    }

    /// <summary>A stream that cannot seek and hands out its bytes in uneven reads, as a pipe does.</summary>
    private sealed class PipeStream(byte[] bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 65_521), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
