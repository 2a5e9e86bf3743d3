using System.Text;
using Rlm.Tools.Context;

namespace Rlm.Tools.Tests.Context;

/// <summary>RlmTextLoader reads files and pipes into the same string Encoding's own decoding gives, in one exact-length copy.</summary>
[Collection(Rlm.Tools.Tests.Tools.GrepTimingCollection.Name)]
public sealed class RlmTextLoaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("rlm-loader-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>About 2.5 M characters of 1- to 4-byte UTF-8 sequences: across the 1 MB read buffer and the 1 M-character chunks.</summary>
    private static string MixedText(int seed, int chars)
    {
        string[] pieces = ["a", "line\n", "crlf\r\n", "é", "€", "日本", "🙂", "\U0001F600x", " ", "ß"];
        var random = new Random(seed);
        var text = new StringBuilder(chars + 16);
        while (text.Length < chars)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }

        return text.ToString();
    }

    private string Write(byte[] bytes)
    {
        string path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task MultiByteText_AcrossBufferAndChunkBoundaries_IsReadExactly_FromAFileAndAPipe(int seed)
    {
        string text = MixedText(seed, 2_500_000);
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        string path = Write(bytes);

        string fromFile = RlmTextLoader.ReadFile(path);
        string fromPipe = await RlmTextLoader.ReadStreamAsync(new TricklingStream(bytes, seed), CancellationToken.None);

        Assert.Equal(text.Length, fromFile.Length);
        Assert.True(string.Equals(text, fromFile, StringComparison.Ordinal), "file text differs");
        Assert.True(string.Equals(text, fromPipe, StringComparison.Ordinal), "piped text differs");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task InvalidBytes_BecomeReplacementCharacters_ExactlyAsEncodingUtf8Does(int seed)
    {
        // Random bytes (a quarter of them >= 0x80) give truncated, overlong and stray sequences anywhere, including
        // across the 1 MB buffer boundary; 'a' first so no byte order mark is seen.
        var random = new Random(seed);
        byte[] bytes = new byte[(1 << 20) + 5_000];
        random.NextBytes(bytes);
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = random.Next(4) == 0 ? (byte)(bytes[i] | 0x80) : (byte)(bytes[i] & 0x7F);
        }

        bytes[0] = (byte)'a';

        // Valid UTF-8 first (300,000 'ü'), so that the text is read as UTF-8 with bad bytes, not guessed to be a legacy encoding.
        for (int i = 1; i + 1 < 600_000; i += 2)
        {
            bytes[i] = 0xC3;
            bytes[i + 1] = 0xBC;
        }

        string expected = new UTF8Encoding(false).GetString(bytes);

        string fromFile = RlmTextLoader.ReadFile(Write(bytes));
        string fromPipe = await RlmTextLoader.ReadStreamAsync(new TricklingStream(bytes, seed), CancellationToken.None);

        Assert.Contains('\uFFFD', expected);
        Assert.True(string.Equals(expected, fromFile, StringComparison.Ordinal), "file text differs");
        Assert.True(string.Equals(expected, fromPipe, StringComparison.Ordinal), "piped text differs");
    }

    public static TheoryData<string, int> Boms => new()
    {
        { "utf-8", 3 },
        { "utf-16LE", 2 },
        { "utf-16BE", 2 },
        { "utf-32LE", 4 },
        { "utf-32BE", 4 },
    };

    [Theory]
    [MemberData(nameof(Boms))]
    public async Task AByteOrderMark_ChoosesTheEncoding_AndIsDropped(string name, int bomLength)
    {
        Encoding encoding = name switch
        {
            "utf-8" => new UTF8Encoding(true),
            "utf-16LE" => new UnicodeEncoding(false, true),
            "utf-16BE" => new UnicodeEncoding(true, true),
            "utf-32LE" => new UTF32Encoding(false, true),
            _ => new UTF32Encoding(true, true),
        };
        string text = MixedText(6, 300_000);
        byte[] bytes = [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];
        Assert.Equal(bomLength, encoding.GetPreamble().Length);

        Assert.Equal(text, RlmTextLoader.ReadFile(Write(bytes)));
        Assert.Equal(text, await RlmTextLoader.ReadStreamAsync(new TricklingStream(bytes, 6), CancellationToken.None));
    }

    [Fact]
    public async Task EmptyAndBomOnlyInputs_AreEmptyStrings()
    {
        Assert.Equal(string.Empty, RlmTextLoader.ReadFile(Write([])));
        Assert.Equal(string.Empty, RlmTextLoader.ReadFile(Write([0xEF, 0xBB, 0xBF])));
        Assert.Equal(string.Empty, await RlmTextLoader.ReadStreamAsync(new TricklingStream([], 1), CancellationToken.None));
        Assert.Equal("é", await RlmTextLoader.ReadStreamAsync(new TricklingStream([0xC3, 0xA9], 1), CancellationToken.None));
    }

    [Fact]
    public void CrlfText_FromAFile_HasTheSameLineIndexAsLf()
    {
        string lf = string.Concat(Enumerable.Range(0, 50_000).Select(i => $"line {i} é\n"));
        string crlf = lf.Replace("\n", "\r\n", StringComparison.Ordinal);

        var context = ContextText.FromString(RlmTextLoader.ReadFile(Write(Encoding.UTF8.GetBytes(crlf))));
        var expected = ContextText.FromString(lf);

        Assert.Equal(50_000, context.LineCount);
        Assert.Equal(expected.LineCount, context.LineCount);
        foreach (int line in new[] { 0, 1, 12_345, 49_999 })
        {
            var text = context.Text.AsSpan(context.LineStart(line), context.LineEnd(line) - context.LineStart(line)).ToString();
            Assert.Equal($"line {line} é", text);
        }
    }

    [Fact]
    public async Task SeekableText_LongerThanOneContext_IsRefusedWithTheLimit_BeforeAnyLargeAllocation()
    {
        // 1.1 G ASCII bytes that are never stored: the first (counting) pass refuses them.
        using var stream = new EndlessAsciiStream(1_100_000_000);
        long before = GC.GetTotalAllocatedBytes(precise: true);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => RlmTextLoader.ReadStreamAsync(stream, CancellationToken.None));

        Assert.Contains(RlmCorpus.MaxLength.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20, "allocated the text before refusing it");
    }

    /// <summary>A pipe: not seekable, and each read returns a random small number of bytes (1 to 70,000).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task MaxLength_AcceptsTextUpToIt_AndRefusesOneCharacterMore(bool seekable)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(new string('é', 3_000_000)); // 2 bytes per character, > one chunk
        Stream Open() => seekable ? new MemoryStream(bytes) : new TricklingStream(bytes, 7);

        string exact = await RlmTextLoader.ReadStreamAsync(Open(), 3_000_000, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => RlmTextLoader.ReadStreamAsync(Open(), 2_999_999, CancellationToken.None));

        Assert.Equal(3_000_000, exact.Length);
        Assert.Contains("at most 2,999,999", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => RlmTextLoader.ReadStreamAsync(Open(), -1, CancellationToken.None));
    }

    private sealed class TricklingStream(byte[] bytes, int seed) : Stream
    {
        private readonly Random _random = new(seed);
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, bytes.Length - _position), _random.Next(1, 70_000));
            bytes.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A seekable stream of <c>length</c> bytes of 'a' that stores none of them.</summary>
    private sealed class EndlessAsciiStream(long length) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - Position);
            buffer[..n].Fill((byte)'a');
            Position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
