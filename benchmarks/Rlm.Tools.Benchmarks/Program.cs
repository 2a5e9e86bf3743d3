using BenchmarkDotNet.Running;
using Rlm.Tools.Benchmarks.SideBySide;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// Entry point. Run from the repository root, for example:
/// <c>dotnet run -c Release --project benchmarks/Rlm.Tools.Benchmarks -- --filter '*' --job short</c>.
/// Two side-by-side runs are not BenchmarkDotNet: <c>-- load</c> (rlm's load path against the read+decode floor) and
/// <c>-- grep</c> (the engine's grep against ripgrep); see benchmarks/README.md.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => args.FirstOrDefault() switch
    {
        "load" => LoadBench.Run(args[1..]),
        "grep" => GrepBench.Run(args[1..]),
        "load-floor" or "load-loader" => LoadBench.RunOnce(args[0]["load-".Length..], args[1]),
        _ => Run(args),
    };

    private static int Run(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
