using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Rlm.Tools.Benchmarks.SideBySide;

/// <summary>
/// The benchmark's input: a log-like UTF-8 file of exactly the bytes asked for (lines of about 100 characters, 0.2 % with a
/// CVE id, 0.2 % with "Segfault", 1 % with a non-ASCII word), written once under the temporary directory and reused.
/// Same size, same file on every machine (a seeded <see cref="Random"/>).
/// </summary>
internal static class TextFile
{
    private static readonly string[] s_words = "the kernel driver module memory page fault process thread network packet socket buffer error warning info debug user session request response timeout retry cache disk write read open close file system service daemon start stop".Split(' ');
    private static readonly string[] s_extra = ["café", "naïve", "日本語", "Grüße", "€100", "emoji 🙂"];
    private static readonly string[] s_levels = ["INFO", "WARN", "ERROR"];

    public static string Ensure(long bytes)
    {
        string directory = Path.Combine(Path.GetTempPath(), "rlm-bench");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"log-{bytes}.txt");
        if (File.Exists(path) && new FileInfo(path).Length == bytes)
        {
            return path;
        }

        Console.Error.WriteLine($"writing {path} ({bytes:N0} bytes) ...");
        var random = new Random(10);
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            long written = 0;
            var line = new StringBuilder(256);
            byte[] buffer = new byte[1024];
            for (long i = 1; written < bytes; i++)
            {
                line.Clear();
                line.Append(CultureInfo.InvariantCulture, $"2025-01-{i % 28 + 1:D2} {i % 24:D2}:{i % 60:D2}:{i % 60:D2} host{i % 50} [{s_levels[random.Next(3)]}]");
                int words = random.Next(6, 17);
                for (int w = 0; w < words; w++)
                {
                    line.Append(' ').Append(s_words[random.Next(s_words.Length)]);
                }

                double r = random.NextDouble();
                if (r < 0.002)
                {
                    line.Append(CultureInfo.InvariantCulture, $" CVE-{random.Next(1999, 2026)}-{random.Next(1000, 100000)}");
                }
                else if (r > 0.998)
                {
                    line.Append(CultureInfo.InvariantCulture, $" Segfault at 0x{random.Next():x}");
                }
                else if (r is > 0.5 and < 0.51)
                {
                    line.Append(' ').Append(s_extra[random.Next(s_extra.Length)]);
                }

                line.Append('\n');
                int count = Encoding.UTF8.GetBytes(line.ToString(), buffer);
                if (written + count > bytes)
                {
                    // The last line is cut to fit (at an ASCII position, so the file stays valid UTF-8) and ends with a line break.
                    count = (int)(bytes - written);
                    buffer[count - 1] = (byte)'\n';
                    for (int j = 0; j < count - 1; j++)
                    {
                        if (buffer[j] >= 0x80)
                        {
                            buffer[j] = (byte)'x';
                        }
                    }
                }

                stream.Write(buffer, 0, count);
                written += count;
            }
        }

        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>Runs a process to its end; returns the wall time, stdout and stderr.</summary>
    public static (TimeSpan Elapsed, string Stdout, string Stderr, int ExitCode) Run(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        clock.Stop();
        return (clock.Elapsed, stdout.Result, stderr.Result, process.ExitCode);
    }

    /// <summary>The repository root (the directory holding Rlm.Tools.sln), from the working directory up.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Rlm.Tools.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("run from the repository (no Rlm.Tools.sln above the working directory)");
    }

    public static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("N0", CultureInfo.InvariantCulture) + " ms";

    public static string Ratio(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + "×";
}
