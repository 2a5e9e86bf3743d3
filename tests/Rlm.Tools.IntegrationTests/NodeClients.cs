using System.Diagnostics;

namespace Rlm.Tools.IntegrationTests;

/// <summary>
/// The official Node.js clients some tests drive (the MCP TypeScript SDK, the OpenAI SDK): each lives in a folder with its
/// own package.json and lockfile, installed by <c>.ci/run</c> with <c>npm ci</c> (and here, when a test runs alone).
/// </summary>
internal static class NodeClients
{
    /// <summary>Runs <c>npm ci</c> in <paramref name="directory"/> unless <paramref name="package"/> is already under its node_modules.</summary>
    /// <param name="directory">The client's folder (package.json and package-lock.json).</param>
    /// <param name="package">The package that must be there, e.g. <c>openai</c> or <c>@modelcontextprotocol/sdk</c>.</param>
    /// <param name="purpose">What needs Node.js, for the message when it is missing.</param>
    public static async Task EnsureInstalledAsync(string directory, string package, string purpose)
    {
        if (Directory.Exists(Path.Combine([directory, "node_modules", .. package.Split('/')])))
        {
            return;
        }

        var info = new ProcessStartInfo("npm")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (string arg in (string[])["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        {
            info.ArgumentList.Add(arg);
        }

        using var npm = Start(info, "npm", purpose);
        var stdout = npm.StandardOutput.ReadToEndAsync();
        var stderr = npm.StandardError.ReadToEndAsync();
        await npm.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.True(npm.ExitCode == 0, $"npm ci failed in {directory} ({npm.ExitCode}): {await stderr}{await stdout}");
    }

    /// <summary>Starts <paramref name="tool"/> (node or npm), saying plainly when Node.js is not installed.</summary>
    public static Process Start(ProcessStartInfo info, string tool, string purpose)
    {
        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Node.js ({tool}) is needed for {purpose} and was not found on PATH: {e.Message}", e);
        }
    }
}
