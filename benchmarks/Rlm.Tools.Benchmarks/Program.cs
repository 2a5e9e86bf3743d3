using BenchmarkDotNet.Running;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// Entry point. Run from the repository root, for example:
/// <c>dotnet run -c Release --project benchmarks/Rlm.Tools.Benchmarks -- --filter '*' --job short</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
