using System.Globalization;
using Rlm.Tools.Context;

namespace Rlm.Tools.Cli;

/// <summary>How the input's files were decoded, as lines for people (<c>-v</c>): only files worth a note (see <see cref="CliInput.Decodings"/>).</summary>
internal static class DecodingReport
{
    /// <summary>
    /// A count of the gzip files read (a folder of changelogs has hundreds), then one line per file whose encoding was
    /// guessed, is not UTF-8, or lost bytes (<c>Decoded: notes.txt: windows-1252 (guessed)</c>), at most
    /// <paramref name="maxFiles"/>, then a count of the rest.
    /// </summary>
    public static IEnumerable<string> Lines(CliInput input, int maxFiles)
    {
        var decodings = input.Decodings;
        int decompressed = decodings.Count(d => d.Decoding.Compression is not null);
        if (decompressed > 0)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Decompressed: {decompressed:N0} gzip file{(decompressed == 1 ? "" : "s")}");
        }

        var notable = decodings.Where(d => d.Decoding.IsGuessed || d.Decoding.ReplacedBytes > 0 || d.Decoding.Encoding != "utf-8").ToList();
        foreach (var (name, decoding) in notable.Take(maxFiles))
        {
            yield return $"Decoded: {TextLimits.OneLine(name, 200)}: {decoding}";
        }

        if (notable.Count > maxFiles)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Decoded: … {notable.Count - maxFiles:N0} more files (--json lists them all)");
        }
    }
}
