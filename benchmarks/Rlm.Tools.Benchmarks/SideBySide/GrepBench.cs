using System.Globalization;
using Rlm.Tools.Context;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Benchmarks.SideBySide;

/// <summary>
/// <c>grep</c>: the engine's grep (<see cref="GrepSearch.Search(ContextView, string, bool, TimeSpan, int, CancellationToken)"/>,
/// what the <c>grep</c> tool and JavaScript's <c>grep()</c> run, 100 hits kept, every matching line counted) over the text
/// held in memory, side by side with ripgrep (<c>rg -c</c>, counting matching lines, over the same file in the page
/// cache) in one run, best of <c>--runs</c> after a warm-up. ripgrep's time is its process's wall time minus the wall
/// time of the same command over an empty file (its start-up). The two counts must agree.
/// </summary>
internal static class GrepBench
{
    private static readonly (string Name, string Pattern, bool IgnoreCase)[] s_patterns =
    [
        ("absent literal", "zqxjv_not_there", false),
        ("CVE regex", @"CVE-\d{4}-\d{4,}", false),
        (@"\bsegfault\w* ignoring case", @"\bsegfault\w*", true),
        ("CVE regex ignoring case", @"CVE-\d{4}-\d{4,}", true),
        ("common literal (ERROR)", "ERROR", false),
    ];

    public static int Run(string[] args)
    {
        long mb = long.Parse(LoadBench.Option(args, "--size", "100"), CultureInfo.InvariantCulture);
        int runs = int.Parse(LoadBench.Option(args, "--runs", "5"), CultureInfo.InvariantCulture);
        string rg = LoadBench.Option(args, "--rg", "rg");
        string path = TextFile.Ensure(mb * 1_000_000);
        string empty = Path.Combine(Path.GetTempPath(), "rlm-bench", "empty.txt");
        File.WriteAllText(empty, string.Empty);
        var view = new ContextView(ContextText.FromString(RlmTextLoader.ReadFile(path)));
        var rgVersion = TextFile.Run(rg, ["--version"]).Stdout.Split('\n')[0];
        Console.WriteLine($"grep: {view.Length:N0} characters ({mb:N0} MB file), {Environment.ProcessorCount} cores, .NET {Environment.Version}, {rgVersion}; best of {runs} after a warm-up");
        Console.WriteLine();
        Console.WriteLine("| pattern | matching lines | rlm grep (all cores) | rlm grep (1 thread) | rg -c (net of start-up) | rg start-up | ratio rlm / rg | same count |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var (name, pattern, ignoreCase) in s_patterns)
        {
            int total = 0;
            var parallel = LoadBench.BestTime(runs + 1, () => total = GrepSearch.Search(view, pattern, ignoreCase, TimeSpan.FromMinutes(1), 100).TotalLines);
            var single = LoadBench.BestTime(runs + 1, () => GrepSearch.Search(view, pattern, ignoreCase, TimeSpan.FromMinutes(1), 100, 1, GrepSearch.SegmentChars, GrepSearch.BlockSegments, compiled: true, CancellationToken.None));
            string[] rgArgs = ignoreCase ? ["-c", "-i", pattern] : ["-c", pattern];
            var rgTime = TimeSpan.MaxValue;
            var rgStart = TimeSpan.MaxValue;
            string rgCount = string.Empty;
            TextFile.Run(rg, [.. rgArgs, path]);
            for (int i = 0; i < runs; i++)
            {
                var (elapsed, stdout, _, _) = TextFile.Run(rg, [.. rgArgs, path]);
                rgCount = stdout.Trim();
                rgTime = elapsed < rgTime ? elapsed : rgTime;
                var startUp = TextFile.Run(rg, [.. rgArgs, empty]).Elapsed;
                rgStart = startUp < rgStart ? startUp : rgStart;
            }

            var rgNet = rgTime - rgStart;
            bool same = (rgCount.Length == 0 ? 0 : int.Parse(rgCount, CultureInfo.InvariantCulture)) == total;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name}: `{pattern}` | {total:N0} | {Ms(parallel)} | {Ms(single)} | {Ms(rgNet)} | {Ms(rgStart)} | {TextFile.Ratio(parallel / rgNet)} | {(same ? "yes" : $"no (rg {rgCount})")} |"));
        }

        return 0;
    }

    private static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("N1", CultureInfo.InvariantCulture) + " ms";
}
