using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>What one run of the real <c>rlm</c> process produced.</summary>
public sealed record RlmProcessResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>The non-empty lines of stderr.</summary>
    public string[] StdErrLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}

/// <summary>
/// Runs the built <c>rlm</c> command as a real child process (<c>dotnet rlm.dll ...</c>), with stdin redirected, stdout and
/// stderr captured, a clean environment (no <c>OPENAI_*</c> variables unless a test sets them) and a timeout.
/// </summary>
public static class RlmProcess
{
    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// The <c>rlm.dll</c> to run, from the Cli project's own build output (the ProjectReference builds it first). Its copy
    /// next to the test assembly is not used: this test project references the ASP.NET Core shared framework, so the build
    /// leaves out the Microsoft.Extensions.* assemblies that framework holds (Configuration.Abstractions among them), which
    /// <c>rlm</c>, running on Microsoft.NETCore.App alone, needs.
    /// </summary>
    public static string RlmDll => s_rlmDll.Value;

    private static readonly Lazy<string> s_rlmDll = new(FindRlmDll);

    private static string FindRlmDll()
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var candidates = new List<string>();

        // --artifacts-path layout: <artifacts>/bin/Rlm.Tools.IntegrationTests/<pivot>/ next to <artifacts>/bin/Rlm.Tools.Cli/<pivot>/.
        if (testDir.Parent?.Parent is { } binDir)
        {
            candidates.Add(Path.Combine(binDir.FullName, "Rlm.Tools.Cli", testDir.Name, "rlm.dll"));
        }

        // Default layout: tests/Rlm.Tools.IntegrationTests/bin/<Configuration>/<tfm>/ and src/Rlm.Tools.Cli/bin/<Configuration>/<tfm>/.
        if (testDir.Parent is { } configurationDir)
        {
            candidates.Add(Path.Combine(RepositoryRoot, "src", "Rlm.Tools.Cli", "bin", configurationDir.Name, testDir.Name, "rlm.dll"));
        }

        foreach (var dll in candidates)
        {
            if (File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json"))
                && File.Exists(Path.Combine(Path.GetDirectoryName(dll)!, "Microsoft.Extensions.Configuration.Abstractions.dll")))
            {
                return dll;
            }
        }

        throw new InvalidOperationException($"The built rlm.dll was not found; looked at: {string.Join(", ", candidates)}.");
    }

    /// <summary>The repository root (the directory holding <c>Rlm.Tools.sln</c>), found from the test assembly or, when the build output lives elsewhere (<c>--artifacts-path</c>), from this source file.</summary>
    public static string RepositoryRoot => FindRepositoryRoot(AppContext.BaseDirectory) ?? FindRepositoryRoot(SourceDirectory())
        ?? throw new InvalidOperationException("Rlm.Tools.sln not found above the test assembly or the test sources.");

    /// <summary>
    /// Runs <c>rlm</c> with <paramref name="args"/>; <paramref name="stdin"/> is written and closed (empty when null), after
    /// <paramref name="whileStdinOpen"/> has run. <paramref name="commandPrefix"/>, when given, runs first and is handed
    /// <c>dotnet rlm.dll args...</c> as its arguments.
    /// </summary>
    public static async Task<RlmProcessResult> RunAsync(
        IEnumerable<string> args,
        string? stdin = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        Func<Process, Task>? whileStdinOpen = null,
        IReadOnlyList<string>? commandPrefix = null)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(commandPrefix is { Count: > 0 } ? commandPrefix[0] : dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        if (commandPrefix is { Count: > 0 })
        {
            // A wrapper that ends by exec-ing "$@" (a shell redirecting stdout, setpriv dropping root): the process id stays rlm's.
            foreach (var part in commandPrefix.Skip(1))
            {
                info.ArgumentList.Add(part);
            }

            info.ArgumentList.Add(dotnet);
        }

        info.ArgumentList.Add(RlmDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("OPENAI_API_KEY");
        info.Environment.Remove("OPENAI_BASE_URL");
        info.Environment.Remove("NO_COLOR");
        info.Environment["DOTNET_NOLOGO"] = "1";
        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                if (value is null)
                {
                    info.Environment.Remove(name);
                }
                else
                {
                    info.Environment[name] = value;
                }
            }
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (whileStdinOpen is not null)
        {
            await whileStdinOpen(process);
        }

        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The process exited without reading its input (a usage error); its output tells what happened.
        }

        using var cts = new CancellationTokenSource(timeout ?? s_defaultTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"rlm did not finish within {(timeout ?? s_defaultTimeout).TotalSeconds:N0} s: rlm {string.Join(' ', args)}");
        }

        return new RlmProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>rlm</c> with the given arguments.</summary>
    public static Task<RlmProcessResult> RunAsync(params string[] args) => RunAsync((IEnumerable<string>)args);

    /// <summary>Asserts a usage or input error: exit code 2, nothing on stdout, exactly one <c>rlm: </c> line on stderr, no stack trace.</summary>
    public static void AssertUsageError(RlmProcessResult result, string expectedFragment)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2: {result}");
        Assert.True(result.StdOut.Length == 0, $"expected no stdout: {result}");
        var line = Assert.Single(result.StdErrLines);
        Assert.StartsWith("rlm: ", line, StringComparison.Ordinal);
        Assert.Contains(expectedFragment, line, StringComparison.OrdinalIgnoreCase);
        AssertNoStackTrace(result);
    }

    /// <summary>Asserts that neither stream holds a .NET stack trace.</summary>
    public static void AssertNoStackTrace(RlmProcessResult result)
    {
        Assert.DoesNotContain("   at ", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception:", result.StdErr, StringComparison.Ordinal);
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Rlm.Tools.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path) ?? ".";
}
