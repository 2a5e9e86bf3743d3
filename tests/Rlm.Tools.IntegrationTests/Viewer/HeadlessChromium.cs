using System.Diagnostics;

namespace Rlm.Tools.IntegrationTests.Viewer;

/// <summary>A real headless Chromium (Debian's chromium package, which .ci/run installs) for the viewer's page tests.</summary>
internal static class HeadlessChromium
{
    public static string ScreenshotDirectory()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindChromium()
    {
        foreach (string name in new[] { "chromium", "chromium-browser", "google-chrome" })
        {
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException("chromium is not on PATH (.ci/run installs Debian's chromium package).");
    }

    /// <summary>Runs headless Chromium on <paramref name="url"/> in <paramref name="mode"/> (<c>--dump-dom</c>, <c>--screenshot=PATH</c>) and returns its stdout.</summary>
    public static async Task<string> RunAsync(string workDir, string mode, string url)
    {
        var info = new ProcessStartInfo(FindChromium())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--user-data-dir=" + Path.Combine(workDir, "chromium-profile"),
            "--window-size=1280,2000", "--virtual-time-budget=5000", mode, url,
        })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("chromium did not finish within 90 s: " + await stderr);
        }

        string output = await stdout;
        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await stderr}");
        return output;
    }
}
