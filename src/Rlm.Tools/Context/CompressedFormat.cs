namespace Rlm.Tools.Context;

/// <summary>Tells compressed files and archives by their magic bytes, so they are named for what they are, never "binary".</summary>
internal static class CompressedFormat
{
    /// <summary>The format whose magic bytes <paramref name="head"/> starts with (<c>gzip</c>, <c>zstd</c>, <c>bzip2</c>, <c>xz</c>, <c>zip</c>, <c>7z</c>, <c>lz4</c>), or <see langword="null"/>.</summary>
    public static string? Detect(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B, 0x08]) ? "gzip"
        : head.StartsWith((ReadOnlySpan<byte>)[0x28, 0xB5, 0x2F, 0xFD]) ? "zstd"
        : head.Length >= 10 && head.StartsWith("BZh"u8) && head[3] is >= (byte)'1' and <= (byte)'9' && head[4..].StartsWith("1AY&SY"u8) ? "bzip2"
        : head.StartsWith((ReadOnlySpan<byte>)[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) ? "xz"
        : head.StartsWith((ReadOnlySpan<byte>)[0x50, 0x4B, 0x03, 0x04]) ? "zip"
        : head.StartsWith((ReadOnlySpan<byte>)[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) ? "7z"
        : head.StartsWith((ReadOnlySpan<byte>)[0x04, 0x22, 0x4D, 0x18]) ? "lz4"
        : null;

    /// <summary>The command that decompresses <paramref name="format"/>, for a message.</summary>
    public static string Hint(string format) => format switch
    {
        "zstd" => "zstd -d",
        "bzip2" => "bunzip2",
        "xz" => "unxz",
        "zip" => "unzip",
        "7z" => "7z x",
        "lz4" => "lz4 -d",
        _ => "gunzip",
    };
}
