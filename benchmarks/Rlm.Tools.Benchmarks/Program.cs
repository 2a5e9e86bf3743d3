using BenchmarkDotNet.Running;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// Entry point. Run from the repository root, for example:
/// <c>dotnet run -c Release --project benchmarks/Rlm.Tools.Benchmarks -- --filter '*' --job short</c>;
/// <c>-- prefix-cache</c> prints the prefix-cache figures instead (<see cref="PrefixCacheCommand"/>).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is [PrefixCacheCommand.Name])
        {
            return await PrefixCacheCommand.RunAsync();
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
