using System.Globalization;
using Rlm.Tools.Context;

namespace Rlm.Tools.Cli;

/// <summary>How the input's files were decoded, as lines for people (<c>-v</c>): only files worth a note (see <see cref="CliInput.Decodings"/>).</summary>
internal static class DecodingReport
{
    /// <summary>One line per file (<c>notes.txt: windows-1252 (guessed), 2 undecodable bytes replaced with U+FFFD</c>), at most <paramref name="maxFiles"/>, then a count of the rest.</summary>
    public static IEnumerable<string> Lines(CliInput input, int maxFiles)
    {
        var decodings = input.Decodings;
        foreach (var (name, decoding) in decodings.Take(maxFiles))
        {
            yield return $"Decoded: {TextLimits.OneLine(name, 200)}: {decoding}";
        }

        if (decodings.Count > maxFiles)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Decoded: … {decodings.Count - maxFiles:N0} more files (--json lists them all)");
        }
    }
}
