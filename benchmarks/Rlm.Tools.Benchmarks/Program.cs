using BenchmarkDotNet.Running;
using Rlm.Tools.Benchmarks.SideBySide;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// Entry point. Run from the repository root, for example:
/// <c>dotnet run -c Release --project benchmarks/Rlm.Tools.Benchmarks -- --filter '*' --job short</c>.
/// Side-by-side runs that are not BenchmarkDotNet: <c>-- load</c> (rlm's load path against the read+decode floor),
/// <c>-- grep</c> (the engine's grep against ripgrep) and <c>-- prefix-cache</c> (the prefix-cache figures,
/// <see cref="PrefixCacheCommand"/>); see benchmarks/README.md.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args) => args.FirstOrDefault() switch
    {
        "load" => LoadBench.Run(args[1..]),
        "grep" => GrepBench.Run(args[1..]),
        "load-floor" or "load-loader" => LoadBench.RunOnce(args[0]["load-".Length..], args[1]),
        PrefixCacheCommand.Name when args.Length == 1 => await PrefixCacheCommand.RunAsync(),
        _ => Run(args),
    };

    private static int Run(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
