using System.Text;
using System.Text.Unicode;

namespace Rlm.Tools.Context;

/// <summary>
/// The encoding of one text while it is read, and what it cost: starts from what the head tells (a byte order mark,
/// UTF-16 without one, else UTF-8) and, for UTF-8 without a mark, settles on the first buffer that is not plain ASCII:
/// valid UTF-8 stays UTF-8; invalid UTF-8 switches to a legacy encoding guessed by UTF.Unknown. Everything before that
/// buffer was ASCII, which every encoding guessed here decodes alike, so switching loses nothing already decoded.
/// </summary>
internal sealed class TextDecodingPlan
{
    private readonly CountingFallback _fallback = new();
    private bool _settled;

    private TextDecodingPlan(Encoding encoding, string name, bool guessed, bool settled)
    {
        Encoding = encoding;
        Name = name;
        IsGuessed = guessed;
        _settled = settled;
    }

    /// <summary>Gets the encoding decided so far.</summary>
    public Encoding Encoding { get; private set; }

    /// <summary>Gets the encoding's web name.</summary>
    public string Name { get; private set; }

    /// <summary>Gets a value indicating whether the encoding was guessed.</summary>
    public bool IsGuessed { get; private set; }

    /// <summary>Gets the bytes replaced with U+FFFD by decoders of this plan (<see cref="CreateDecoder"/>).</summary>
    public long ReplacedBytes => _fallback.Count;

    /// <summary>The plan for a text whose first bytes are <paramref name="head"/>, and the length of its byte order mark.</summary>
    public static (TextDecodingPlan Plan, int BomLength) FromHead(ReadOnlySpan<byte> head)
    {
        var (encoding, bom) = RlmTextLoader.DetectEncoding(head);
        if (bom > 0)
        {
            return (new TextDecodingPlan(encoding, WebName(encoding), guessed: false, settled: true), bom);
        }

        if (Utf16WithoutBom(head) is { } wide)
        {
            return (new TextDecodingPlan(wide, WebName(wide), guessed: true, settled: true), 0);
        }

        return (new TextDecodingPlan(encoding, "utf-8", guessed: false, settled: false), 0);
    }

    /// <summary>A decoder of the current encoding that replaces (and counts) what it cannot decode.</summary>
    public Decoder CreateDecoder() => WithFallback(Encoding, _fallback).GetDecoder();

    /// <summary>A decoder of the current encoding that replaces as <see cref="CreateDecoder"/> does without counting (a second pass).</summary>
    public Decoder CreateUncountedDecoder() => WithFallback(Encoding, new CountingFallback()).GetDecoder();

    /// <summary>
    /// Looks at the next raw buffer before it is decoded; returns <see langword="true"/> when the encoding changed, so
    /// that the caller decodes this buffer and the rest with a new <see cref="CreateDecoder"/>.
    /// </summary>
    public bool Consider(ReadOnlySpan<byte> bytes, bool final)
    {
        if (_settled || System.Text.Ascii.IsValid(bytes))
        {
            return false;
        }

        _settled = true;
        var complete = final ? bytes : WithoutIncompleteTail(bytes);
        if (Utf8.IsValid(complete) || MostlyUtf8(complete))
        {
            return false; // UTF-8, perhaps with a few bad bytes (replaced and counted): a legacy guess would garble the rest
        }

        var legacy = GuessLegacy(bytes);
        Encoding = legacy;
        Name = WebName(legacy);
        IsGuessed = true;
        return true;
    }

    /// <summary>What the plan decided and counted.</summary>
    public RlmTextDecoding ToDecoding(string? compression) => new(Name, IsGuessed, ReplacedBytes, compression);

    /// <summary>Whether <paramref name="bytes"/> hold valid multi-byte UTF-8 characters at least a quarter as many as its invalid bytes.</summary>
    private static bool MostlyUtf8(ReadOnlySpan<byte> bytes)
    {
        int valid = 0, invalid = 0;
        while (!bytes.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes, out var rune, out int consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                valid += rune.Value >= 0x80 ? 1 : 0;
            }
            else
            {
                invalid += consumed;
            }

            bytes = bytes[consumed..];
        }

        // Legacy text almost never forms valid multi-byte UTF-8 by chance; a few such characters settle it.
        return valid * 4 >= invalid;
    }

    /// <summary>
    /// UTF-16 without a byte order mark, told by its high bytes: text in one script (ASCII, Latin-1, Cyrillic, Greek, …)
    /// with some ASCII has the same few values in the high byte of nearly every character (zero for ASCII), and the low
    /// byte is almost never zero.
    /// </summary>
    internal static Encoding? Utf16WithoutBom(ReadOnlySpan<byte> head)
    {
        int pairs = head.Length / 2;
        if (pairs < 2)
        {
            return null;
        }

        // Per position in the pair, how often each byte value appears: the high bytes of one script (0x00 for ASCII and
        // Latin-1, 0x04 for Cyrillic, 0x03 for Greek) fill one position; the low bytes vary and are almost never zero.
        Span<int> even = stackalloc int[256];
        Span<int> odd = stackalloc int[256];
        for (int i = 0; i < pairs; i++)
        {
            even[head[2 * i]]++;
            odd[head[(2 * i) + 1]]++;
        }

        static bool HighBytes(Span<int> counts, int pairs)
        {
            int top = 0;
            for (int b = 1; b < 256; b++)
            {
                top = Math.Max(top, counts[b]);
            }

            // Some ASCII (spaces, line breaks) and the rest mostly from one block.
            return counts[0] * 20 >= pairs && (counts[0] + top) * 10 >= pairs * 7;
        }

        var wide = HighBytes(odd, pairs) && even[0] * 50 <= pairs ? new UnicodeEncoding(bigEndian: false, byteOrderMark: false)
            : HighBytes(even, pairs) && odd[0] * 50 <= pairs ? new UnicodeEncoding(bigEndian: true, byteOrderMark: false)
            : null;

        // Binary data (16-bit numbers) can look alike: text has few control characters besides tab and line breaks.
        if (wide is not null)
        {
            string text = wide.GetString(head[..(pairs * 2)]);
            int controls = text.Count(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r' or '\f'));
            return controls * 20 <= text.Length ? wide : null;
        }

        return null;
    }

    /// <summary>
    /// The legacy encoding UTF.Unknown finds for bytes that are not UTF-8, if it is one .NET has and that reads ASCII as
    /// ASCII; else Windows-1252 (a superset of Latin-1, the most common legacy encoding of Western text).
    /// </summary>
    private static Encoding GuessLegacy(ReadOnlySpan<byte> bytes)
    {
        // The detector needs a few KB to be sure; more only costs time.
        var sample = bytes.Length > 256 * 1024 ? bytes[..(256 * 1024)] : bytes;
        var detected = UtfUnknown.CharsetDetector.DetectFromBytes(sample).Detected;

        // A weak guess (on a few stray bytes the detector's best is often a DOS code page) is worse than the common default. Latin-1 is read as its superset
        // Windows-1252, as browsers do (WHATWG), so that 0x80-0x9F are quotes and dashes, not control characters.
        int nonAscii = 0;
        foreach (byte b in sample)
        {
            nonAscii += b >> 7;
        }

        if (nonAscii >= 16 && detected is { EncodingName: { } name, Confidence: >= 0.5f } && !name.Equals("iso-8859-1", StringComparison.OrdinalIgnoreCase)
            && Lookup(name) is { } found && !found.WebName.StartsWith("utf-", StringComparison.OrdinalIgnoreCase) && ReadsAsciiAsAscii(found))
        {
            return found;
        }

        return Lookup("windows-1252")!;
    }

    private static Encoding? Lookup(string name)
    {
        try
        {
            // The code pages ship with .NET; asking the provider directly leaves the process's encoding registry alone.
            return System.Text.CodePagesEncodingProvider.Instance.GetEncoding(name) ?? Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool ReadsAsciiAsAscii(Encoding encoding)
    {
        Span<byte> ascii = stackalloc byte[95];
        for (int i = 0; i < ascii.Length; i++)
        {
            ascii[i] = (byte)(0x20 + i);
        }

        return encoding.GetString(ascii) == Encoding.ASCII.GetString(ascii);
    }

    /// <summary>The bytes without a UTF-8 sequence cut off by the end of the buffer.</summary>
    private static ReadOnlySpan<byte> WithoutIncompleteTail(ReadOnlySpan<byte> bytes)
    {
        for (int back = 1; back <= Math.Min(4, bytes.Length); back++)
        {
            byte b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // a continuation byte: its lead is further back
            }

            int needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back ? bytes[..^back] : bytes;
        }

        return bytes;
    }

    private static string WebName(Encoding encoding) => encoding switch
    {
        UnicodeEncoding when encoding.CodePage == 1201 => "utf-16be",
        UnicodeEncoding => "utf-16le",
        UTF32Encoding when encoding.CodePage == 12001 => "utf-32be",
        UTF32Encoding => "utf-32le",
        _ => encoding.WebName.ToLowerInvariant(),
    };

    private static Encoding WithFallback(Encoding encoding, DecoderFallback fallback)
    {
        var copy = (Encoding)encoding.Clone();
        copy.DecoderFallback = fallback;
        return copy;
    }

    /// <summary>Replaces each undecodable sequence with U+FFFD, as the default fallback does, and counts its bytes.</summary>
    private sealed class CountingFallback : DecoderFallback
    {
        public long Count;

        public override int MaxCharCount => 1;

        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(this);

        private sealed class Buffer(CountingFallback owner) : DecoderFallbackBuffer
        {
            private int _remaining;

            public override int Remaining => _remaining;

            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                owner.Count += bytesUnknown.Length;
                _remaining = 1;
                return true;
            }

            public override char GetNextChar()
            {
                if (_remaining == 0)
                {
                    return '\0';
                }

                _remaining--;
                return '\uFFFD';
            }

            public override bool MovePrevious()
            {
                if (_remaining != 0)
                {
                    return false;
                }

                _remaining = 1;
                return true;
            }

            public override void Reset() => _remaining = 0;
        }
    }
}
