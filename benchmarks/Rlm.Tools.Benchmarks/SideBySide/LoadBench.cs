using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Rlm.Tools.Benchmarks.SideBySide;

/// <summary>
/// <c>load</c>: the load path of <c>rlm</c> side by side with the read+decode floor, in one run. For each size it times,
/// best of <c>--runs</c>:
/// the floor (<c>File.ReadAllBytes</c> + <c>Encoding.UTF8.GetString</c>) and the engine's loader
/// (<see cref="RlmTextLoader.ReadFile"/> + <see cref="RlmCorpus.FromText"/>, the line index), each in a fresh process (a
/// warm process reuses memory it has already touched; a real load pays the page faults); and the real
/// <c>rlm</c> process (offline model, <c>-v</c>) over the file with <c>--file</c> and piped into <c>--stdin</c>, whose
/// peak resident set (<c>/usr/bin/time</c>'s maximum RSS, the kernel's VmHWM) and time to "ready" (the <c>Context:</c>
/// line on stderr, printed once the input is loaded) it reads, net of the same process over a 100 KB file.
/// </summary>
internal static class LoadBench
{
    private const string Question = "What is the CVE id?";

    public static int Run(string[] args)
    {
        var sizes = Option(args, "--sizes", "100,1000").Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int runs = int.Parse(Option(args, "--runs", "3"), CultureInfo.InvariantCulture);
        long over = long.Parse(Option(args, "--over", "1100"), CultureInfo.InvariantCulture);
        string root = TextFile.RepositoryRoot();
        string rlm = Option(args, "--rlm", Path.Combine(root, "src/Rlm.Tools.Cli/bin/Release/net10.0/rlm"));
        if (!File.Exists(rlm))
        {
            Console.Error.WriteLine($"no {rlm}: build it first (dotnet build src/Rlm.Tools.Cli -c Release)");
            return 2;
        }

        Console.WriteLine($"load: {Environment.ProcessorCount} cores, .NET {Environment.Version}, best of {runs} runs; rlm = {rlm}");
        string tiny = TextFile.Ensure(100_000);
        var baseline = Best(runs, () => Child(rlm, tiny, stdin: false));
        Console.WriteLine($"baseline (rlm over 100 KB): ready {TextFile.Ms(baseline.Ready)}, peak RSS {baseline.PeakKb / 1024.0:N1} MB");
        Console.WriteLine();
        Console.WriteLine("| size | chars | floor: ReadAllBytes+GetString (fresh process) | RlmTextLoader+index (fresh process) | rlm --file ready (net) | above floor | rlm --file peak RSS | B/char (net of baseline) | rlm --stdin ready (net) | rlm --stdin peak RSS | B/char (net) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var readyBySize = new List<(long Mb, TimeSpan Ready)>();
        foreach (long mb in sizes)
        {
            string path = TextFile.Ensure(mb * 1_000_000);
            // In a fresh process each: its first touch of the text's pages (page faults) is part of any real load.
            var floorRuns = Enumerable.Range(0, runs).Select(_ => Self("floor", path)).ToList();
            var loaderRuns = Enumerable.Range(0, runs).Select(_ => Self("loader", path)).ToList();
            long chars = floorRuns[0].Chars;
            if (loaderRuns.Any(r => r.Chars != chars))
            {
                throw new InvalidOperationException($"RlmTextLoader read {loaderRuns[0].Chars:N0} characters, GetString {chars:N0}");
            }

            var floor = floorRuns.Min(r => r.Elapsed);
            var loader = loaderRuns.Min(r => r.Elapsed);
            var file = Best(runs, () => Child(rlm, path, stdin: false));
            var piped = Best(runs, () => Child(rlm, path, stdin: true));
            var fileReady = file.Ready - baseline.Ready;
            var pipedReady = piped.Ready - baseline.Ready;
            readyBySize.Add((mb, fileReady));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {mb:N0} MB | {chars:N0} | {TextFile.Ms(floor)} | {TextFile.Ms(loader)} | {TextFile.Ms(fileReady)} | {TextFile.Ms(fileReady - floor)} | {file.PeakKb / 1024.0:N0} MB | {file.PeakKb * 1024.0 / chars:0.00} ({(file.PeakKb - baseline.PeakKb) * 1024.0 / chars:0.00}) | {TextFile.Ms(pipedReady)} | {piped.PeakKb / 1024.0:N0} MB | {piped.PeakKb * 1024.0 / chars:0.00} ({(piped.PeakKb - baseline.PeakKb) * 1024.0 / chars:0.00}) |"));
        }

        if (readyBySize.Count > 1)
        {
            var (smallMb, small) = readyBySize[0];
            var (largeMb, large) = readyBySize[^1];
            Console.WriteLine();
            Console.WriteLine($"linearity: rlm --file ready (net) {largeMb:N0} MB / {smallMb:N0} MB = {TextFile.Ratio(large / small)} for {TextFile.Ratio((double)largeMb / smallMb)} the size");
        }

        if (over > 0)
        {
            string path = TextFile.Ensure(over * 1_000_000);
            var (elapsed, _, stderr, exit) = TextFile.Run(rlm, [Question, "--file", path, "--offline"]);
            Console.WriteLine();
            Console.WriteLine($"{over:N0} MB (beyond {RlmCorpus.MaxLength:N0} characters): exit {exit} after {TextFile.Ms(elapsed)}, stderr: {stderr.Trim()}");
        }

        return 0;
    }

    /// <summary>
    /// <c>load-floor PATH</c> / <c>load-loader PATH</c>: one cold read in this fresh process, printed as
    /// <c>elapsed-ticks chars</c>: the floor (<c>File.ReadAllBytes</c> + <c>Encoding.UTF8.GetString</c>) or the engine's
    /// loader with the line index (<see cref="RlmTextLoader"/> + <see cref="RlmCorpus.FromText"/>).
    /// </summary>
    public static int RunOnce(string mode, string path)
    {
        var clock = Stopwatch.StartNew();
        long chars = mode == "floor"
            ? Encoding.UTF8.GetString(File.ReadAllBytes(path)).Length
            : RlmCorpus.FromText(RlmTextLoader.ReadFile(path)).Length;
        clock.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.Ticks} {chars}"));
        return 0;
    }

    private static (TimeSpan Elapsed, long Chars) Self(string mode, string path)
    {
        var (_, stdout, stderr, exit) = TextFile.Run(Environment.ProcessPath!, [$"load-{mode}", path]);
        if (exit != 0)
        {
            throw new InvalidOperationException($"load-{mode} failed: {stderr}");
        }

        var parts = stdout.Trim().Split(' ');
        return (TimeSpan.FromTicks(long.Parse(parts[0], CultureInfo.InvariantCulture)), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private readonly record struct ChildResult(TimeSpan Ready, long PeakKb);

    /// <summary>Runs rlm under /usr/bin/time; "ready" is when its Context: line reaches stderr, timed from the process start.</summary>
    private static ChildResult Child(string rlm, string path, bool stdin)
    {
        string command = stdin
            ? $"cat '{path}' | /usr/bin/time -f 'PEAK_KB=%M' '{rlm}' '{Question}' --stdin --offline -v"
            : $"/usr/bin/time -f 'PEAK_KB=%M' '{rlm}' '{Question}' --file '{path}' --offline -v";
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        TimeSpan ready = TimeSpan.Zero;
        long peak = -1;
        var lines = new List<string>();
        while (process.StandardError.ReadLine() is { } line)
        {
            lines.Add(line);
            if (ready == TimeSpan.Zero && line.StartsWith("Context: ", StringComparison.Ordinal))
            {
                ready = clock.Elapsed;
            }
            else if (line.StartsWith("PEAK_KB=", StringComparison.Ordinal))
            {
                peak = long.Parse(line["PEAK_KB=".Length..], CultureInfo.InvariantCulture);
            }
        }

        process.WaitForExit();
        _ = stdout.Result;
        if (ready == TimeSpan.Zero || peak < 0)
        {
            throw new InvalidOperationException($"rlm printed no Context: line or no peak (exit {process.ExitCode}):\n{string.Join('\n', lines.TakeLast(10))}");
        }

        return new ChildResult(ready, peak);
    }

    /// <summary>The best of several child runs: the least peak and the least time (each its own minimum).</summary>
    private static ChildResult Best(int runs, Func<ChildResult> run)
    {
        var results = Enumerable.Range(0, runs).Select(_ => run()).ToList();
        return new ChildResult(results.Min(r => r.Ready), results.Min(r => r.PeakKb));
    }

    internal static TimeSpan BestTime(int runs, Action action)
    {
        var best = TimeSpan.MaxValue;
        for (int i = 0; i < runs; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            var clock = Stopwatch.StartNew();
            action();
            clock.Stop();
            best = clock.Elapsed < best ? clock.Elapsed : best;
        }

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return best;
    }

    internal static string Option(string[] args, string name, string fallback)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }
}
