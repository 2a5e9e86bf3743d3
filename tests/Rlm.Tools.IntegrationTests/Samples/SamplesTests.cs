using System.Diagnostics;
using Rlm.Tools.IntegrationTests.Cli;

namespace Rlm.Tools.IntegrationTests.Samples;

/// <summary>The README's sample of the three ways of use runs offline as a real process and each way answers.</summary>
public sealed class SamplesTests
{
    [Fact]
    public async Task Sample_ShowsTheThreeWaysOfUse_Offline()
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = Path.Combine(RlmProcess.RepositoryRoot, "samples", "Rlm.Tools.Samples", "bin", testDir.Parent!.Name, testDir.Name, "Rlm.Tools.Samples.dll");
        Assert.True(File.Exists(dll), $"the sample was not built: {dll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(Path.Combine(RlmProcess.RepositoryRoot, "src"));
        start.Environment.Remove("OPENAI_API_KEY");

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        string output = await stdout;

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
        Assert.Contains("1. QueryAsync (Final", output);
        Assert.Contains("2. UseRecursiveLanguageModel (Final", output);
        Assert.Contains("A small request passes through: yes", output);
        Assert.Contains("3. AsAIFunction inside a FunctionInvokingChatClient:", output);
        Assert.Contains("\"isFinal\": true", output);
        Assert.True(output.Split("ModelDispatcher.cs").Length - 1 >= 3, "each of the three ways should find ModelDispatcher.cs:\n" + output);
    }
}
