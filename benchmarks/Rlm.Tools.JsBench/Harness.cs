using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tests.Sandbox;

namespace Rlm.Tools.JsBench;

/// <summary>Runs the programs: in the real sandbox (in process), and in CPython and Node (one subprocess each, timing inside the script).</summary>
internal static class Harness
{
    public static string PythonVersion { get; private set; } = "CPython ?";

    public static string NodeVersion { get; private set; } = "?";

    /// <summary>One sandbox per program (a model's session), one warm-up call (it also reads <c>context</c>), then the median of <paramref name="runs"/>.</summary>
    public static async Task<(double Ms, string? Result, string? Error)> RunJintAsync(string corpus, JsLimits limits, string code, int runs)
    {
        using var sandbox = new JsSandbox(limits);
        var host = new FakeJsHost(corpus);
        var warm = await sandbox.ExecuteAsync(code, host, CancellationToken.None);
        if (warm.Error is not null)
        {
            return (double.NaN, null, warm.Error);
        }

        var times = new List<double>();
        string? result = warm.Value;
        for (int i = 0; i < runs; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long start = Stopwatch.GetTimestamp();
            var run = await sandbox.ExecuteAsync(code, host, CancellationToken.None);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (run.Error is not null)
            {
                return (double.NaN, null, run.Error);
            }

            result = run.Value;
        }

        return (Median(times), result, null);
    }

    public static async Task<Dictionary<string, (double Ms, string Result)>> RunPythonAsync(string python, string work, string corpusPath, IReadOnlyList<BenchProgram> programs, int runs)
    {
        var script = new StringBuilder("""
            import json, re, statistics, sys, time

            """);
        foreach (var program in programs)
        {
            script.Append(program.Python).Append("\n\n");
        }

        script.Append("PROGRAMS = {").AppendJoin(", ", programs.Select(p => $"'{p.Id}': {p.Id}")).Append("}\n");
        script.Append("""
            path, runs = sys.argv[1], int(sys.argv[2])
            with open(path, encoding='utf-8') as f:
                text = f.read()
            out = {'version': 'CPython ' + sys.version.split()[0], 'programs': {}}
            for name, fn in PROGRAMS.items():
                result = fn(text)
                times = []
                for _ in range(runs):
                    start = time.perf_counter()
                    result = fn(text)
                    times.append((time.perf_counter() - start) * 1000)
                out['programs'][name] = {'ms': statistics.median(times), 'result': result}
            print(json.dumps(out))
            """);
        string path = Path.Combine(work, "bench.py");
        await File.WriteAllTextAsync(path, script.ToString());
        var (version, results) = await RunAsync(python, [path, corpusPath, runs.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        PythonVersion = version;
        return results;
    }

    public static async Task<Dictionary<string, (double Ms, string Result)>> RunNodeAsync(string node, string work, string corpusPath, IReadOnlyList<BenchProgram> programs, int runs)
    {
        // The same source the sandbox runs, as a script in the global scope (vm.runInThisContext returns its completion value).
        var codes = programs.ToDictionary(p => p.Id, p => p.Js);
        string script = $$"""
            const fs = require('fs');
            const vm = require('vm');
            const programs = {{JsonSerializer.Serialize(codes)}};
            const [path, runsText] = process.argv.slice(2);
            const runs = Number(runsText);
            globalThis.context = fs.readFileSync(path, 'utf8');
            const out = { version: process.versions.node, programs: {} };
            for (const [name, code] of Object.entries(programs)) {
              const script = new vm.Script(code);
              let result = script.runInThisContext();
              const times = [];
              for (let i = 0; i < runs; i++) {
                const start = process.hrtime.bigint();
                result = script.runInThisContext();
                times.push(Number(process.hrtime.bigint() - start) / 1e6);
              }
              times.sort((a, b) => a - b);
              const mid = times.length >> 1;
              out.programs[name] = { ms: times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2, result };
            }
            console.log(JSON.stringify(out));
            """;
        string path = Path.Combine(work, "bench.js");
        await File.WriteAllTextAsync(path, script);
        var (version, results) = await RunAsync(node, [path, corpusPath, runs.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        NodeVersion = version;
        return results;
    }

    private static async Task<(string Version, Dictionary<string, (double Ms, string Result)> Results)> RunAsync(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}");
        }

        using var json = JsonDocument.Parse(await stdout);
        var results = new Dictionary<string, (double, string)>();
        foreach (var program in json.RootElement.GetProperty("programs").EnumerateObject())
        {
            results[program.Name] = (program.Value.GetProperty("ms").GetDouble(), program.Value.GetProperty("result").GetString() ?? "");
        }

        return (json.RootElement.GetProperty("version").GetString() ?? "?", results);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
