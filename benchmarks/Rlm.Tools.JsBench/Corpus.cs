using System.IO.Compression;
using System.Text;

namespace Rlm.Tools.JsBench;

/// <summary>
/// Real text, built offline from what a Debian/Ubuntu machine ships: the Debian changelogs of the installed packages
/// (<c>/usr/share/doc/*/changelog.Debian.gz</c>, in ordinal order of the package directory; a directory that is a
/// symbolic link is skipped and a linked file read once), gunzipped and concatenated
/// whole until the text reaches the asked size. Fallbacks, in order, when those run short: upstream changelogs
/// (<c>/usr/share/doc/*/changelog.gz</c>), then every other <c>.gz</c> under <c>/usr/share/doc</c>, then the man pages
/// (<c>/usr/share/man/**/*.gz</c>).
/// </summary>
internal static class Corpus
{
    public static (string Text, string Source, int Files) Build(int minChars)
    {
        var text = new StringBuilder(minChars + (1 << 20));
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var sources = new List<string>();
        int files = 0;
        foreach (var (description, paths) in Sources())
        {
            int before = files;
            foreach (var path in paths)
            {
                if (text.Length >= minChars)
                {
                    break;
                }

                if (!used.Add(new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path))
                {
                    continue;
                }

                try
                {
                    using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
                    using var reader = new StreamReader(stream, decoder);
                    string body = reader.ReadToEnd();
                    text.Append(body);
                    if (body.Length > 0 && body[^1] != '\n')
                    {
                        text.Append('\n');
                    }

                    files++;
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    // an unreadable or corrupt file: skip it
                }
            }

            if (files > before)
            {
                sources.Add($"{files - before} × {description}");
            }

            if (text.Length >= minChars)
            {
                return (text.ToString(), string.Join(" + ", sources), files);
            }
        }

        throw new InvalidOperationException($"only {text.Length:N0} characters of real text found under /usr/share/doc and /usr/share/man; need {minChars:N0}.");
    }

    private static IEnumerable<(string Description, IEnumerable<string> Paths)> Sources()
    {
        yield return ("/usr/share/doc/*/changelog.Debian.gz", PerPackage("changelog.Debian.gz"));
        yield return ("/usr/share/doc/*/changelog.gz", PerPackage("changelog.gz"));
        yield return ("/usr/share/doc/**/*.gz", Tree("/usr/share/doc"));
        yield return ("/usr/share/man/**/*.gz", Tree("/usr/share/man"));
    }

    private static IEnumerable<string> PerPackage(string name) =>
        Directory.Exists("/usr/share/doc")
            ? Directory.GetDirectories("/usr/share/doc").Where(d => new DirectoryInfo(d).LinkTarget is null).Order(StringComparer.Ordinal).Select(d => Path.Combine(d, name)).Where(File.Exists)
            : [];

    private static IEnumerable<string> Tree(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*.gz", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }).Order(StringComparer.Ordinal)
            : [];
}
