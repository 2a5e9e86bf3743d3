using Rlm.Tools.Context;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Rlm.Tools;
using Rlm.Tools.JsBench;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tests.Sandbox;
using Rlm.Tools.Tools;

// exec_js speed: typical model programs over real text in the sandbox (Jint), CPython and Node, in one run.
// Usage: dotnet run --project benchmarks/Rlm.Tools.JsBench -c Release -- [--mb 6] [--runs 5] [--python python3] [--node node] [--only id,id]
var culture = CultureInfo.InvariantCulture;
double megabytes = 6;
int runs = 5;
string python = "python3";
string node = "node";
HashSet<string>? only = null;
string? probe = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--mb": megabytes = double.Parse(Next(), culture); break;
        case "--runs": runs = int.Parse(Next(), culture); break;
        case "--python": python = Next(); break;
        case "--node": node = Next(); break;
        case "--only": only = [.. Next().Split(',')]; break;
        case "--probe": probe = Next(); break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; options: --mb N (corpus size, default 6), --runs N (timed runs after one warm-up, default 5), --python PATH, --node PATH, --only id,id, --probe FILE (time the JavaScript in FILE in the sandbox only)");
            return 2;
    }
}

var programs = Programs.All.Where(p => only is null || only.Contains(p.Id)).ToList();
var (corpus, source, files) = Corpus.Build((int)(megabytes * 1_000_000));
string work = Path.Combine(Path.GetTempPath(), $"rlm-jsbench-{Environment.ProcessId}");
Directory.CreateDirectory(work);
string corpusPath = Path.Combine(work, "corpus.txt");
File.WriteAllText(corpusPath, corpus, new UTF8Encoding(false));
long corpusBytes = new FileInfo(corpusPath).Length;
Console.Error.WriteLine($"corpus: {corpus.Length:N0} characters ({corpusBytes:N0} bytes UTF-8, {corpus.Count(c => c == '\n'):N0} lines) from {source}");

var options = new RlmOptions();
var limits = new JsLimits(options.JavaScriptTimeout, options.JavaScriptMaxStatements, options.JavaScriptMaxRecursionDepth, options.JavaScriptMemoryLimitBytes, options.MaxToolOutputChars);
if (probe is not null)
{
    // Profiling aid: each top-level block of the file ({ ... } starting in column 0) timed on its own.
    foreach (var block in File.ReadAllText(probe).Split("\n{", StringSplitOptions.RemoveEmptyEntries))
    {
        string code = block.TrimStart().StartsWith('{') ? block : "{" + block;
        var (ms, value, error) = await Harness.RunJintAsync(corpus, limits, code, runs);
        Console.WriteLine($"{Ms(ms),8} ms  {code.Split('\n').Skip(1).FirstOrDefault()?.Trim()}  => {TextLimits.Line(error ?? value ?? "undefined", 100)}");
    }

    Directory.Delete(work, recursive: true);
    return 0;
}

try
{
    var python_ = await Harness.RunPythonAsync(python, work, corpusPath, programs, runs);
    var node_ = await Harness.RunNodeAsync(node, work, corpusPath, programs, runs);
    var rows = new List<string>();
    bool allAgree = true;
    foreach (var program in programs)
    {
        var (pyMs, pyResult) = python_[program.Id];
        var (nodeMs, nodeResult) = node_[program.Id];
        foreach (var (variant, code) in new[] { ("plain JS", program.Js), ("helpers", program.Helper) })
        {
            if (code is null)
            {
                continue;
            }

            var (jintMs, jintResult, error) = await Harness.RunJintAsync(corpus, limits, code, runs);
            bool agree = error is null && jintResult == pyResult && nodeResult == pyResult;
            allAgree &= agree;
            if (!agree)
            {
                Console.Error.WriteLine($"{program.Id} ({variant}) disagrees:\n  jint:   {error ?? jintResult}\n  python: {pyResult}\n  node:   {nodeResult}");
            }

            string Ratio(double other) => double.IsNaN(jintMs) ? "–" : string.Create(culture, $"{jintMs / other:0.00}×");
            rows.Add(string.Create(culture,
                $"| {program.Name} | {variant} | {Ms(jintMs)} | {Ms(pyMs)} | {Ms(nodeMs)} | {Ratio(pyMs)} | {Ratio(nodeMs)} | {(agree ? "yes" : "**no**")} |"));
        }
    }

    Console.WriteLine(string.Create(culture,
        $"Corpus: {corpus.Length / 1e6:0.0} M characters ({corpus.Count(c => c == '\n'):N0} lines) of real text: {source}. Median of {runs} runs after one warm-up; {Environment.ProcessorCount} cores; .NET {Environment.Version}, Jint 4.18.0, {Harness.PythonVersion}, Node {Harness.NodeVersion}."));
    Console.WriteLine();
    Console.WriteLine("| program | exec_js code | Jint ms | CPython ms | Node ms | Jint / CPython | Jint / Node | same answer |");
    Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---|");
    foreach (var row in rows)
    {
        Console.WriteLine(row);
    }

    return allAgree ? 0 : 1;
}
finally
{
    Directory.Delete(work, recursive: true);
}

static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString(value < 10 ? "0.0" : "N0", CultureInfo.InvariantCulture);
