using System.Diagnostics;
using System.Text.Json;
using Rlm.Tools.IntegrationTests.Mcp;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// <c>rlm --dir</c> and <c>rlm mcp --dir</c> on real trees, as real processes with the offline model (which quotes the
/// lines it finds): links out of the directory, FIFOs, hidden files, and what <c>-v</c>, <c>--json</c> and
/// <c>list_documents</c> say was skipped.
/// </summary>
public sealed class CliDirectoryWalkTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _dir;

    public CliDirectoryWalkTests()
    {
        _temp.WriteText("outside/creds.txt", "The password is hunter2-OUTSIDE.\n");
        _temp.WriteText("d/notes.txt", "The password is kept elsewhere.\n");
        _dir = System.IO.Path.Combine(_temp.Path, "d");
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task ASymlinkOutOfTheDirectory_IsNotRead_AndJsonSaysWhy()
    {
        Directory.CreateSymbolicLink(System.IO.Path.Combine(_dir, "shared"), System.IO.Path.Combine(_temp.Path, "outside"));

        var run = await RlmProcess.RunAsync(["What is the password?", "--dir", _dir, "--offline", "--json"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("hunter2", run.StdOut, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(run.StdOut);
        var input = json.RootElement.GetProperty("input");
        Assert.Equal(1, input.GetProperty("documents").GetInt32());
        var skip = Assert.Single(input.GetProperty("skipped").EnumerateArray());
        // Named as the documents are: the directory relative to the working directory (RlmProcess runs in the temp folder), then the path under it.
        Assert.Equal(System.IO.Path.GetRelativePath(System.IO.Path.GetTempPath(), System.IO.Path.Combine(_dir, "shared")), skip.GetProperty("path").GetString());
        Assert.Equal("symlink", skip.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Follow_ReadsALinkedFolder()
    {
        Directory.CreateSymbolicLink(System.IO.Path.Combine(_dir, "shared"), System.IO.Path.Combine(_temp.Path, "outside"));

        var run = await RlmProcess.RunAsync(["What is the password?", "--dir", _dir, "--offline", "--follow", "-v"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("hunter2-OUTSIDE", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("Input: 2 files under", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFifoInTheDirectory_DoesNotHang_AndVerboseSaysWhy()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        MakeFifo(System.IO.Path.Combine(_dir, "pipe"));
        var stopwatch = Stopwatch.StartNew();

        var run = await RlmProcess.RunAsync(["What is the password?", "--dir", _dir, "--offline", "-v"], timeout: TimeSpan.FromSeconds(90));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(90), run.ToString());
        Assert.Contains("Skipped: 1 (1 special_file)", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("pipe [special_file] named pipe (FIFO): never opened", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DotEnv_IsNotReadUnlessHidden()
    {
        _temp.WriteText("d/.env", "API_TOKEN=tok-SECRET-9911\n");

        var plain = await RlmProcess.RunAsync(["What is the API_TOKEN?", "--dir", _dir, "--offline", "--json"]);
        var hidden = await RlmProcess.RunAsync(["What is the API_TOKEN?", "--dir", _dir, "--offline", "--json", "--hidden"]);

        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.DoesNotContain("tok-SECRET-9911", plain.StdOut, StringComparison.Ordinal);
        Assert.Contains("\"reason\": \"hidden\"", plain.StdOut, StringComparison.Ordinal);
        Assert.True(hidden.ExitCode == 0, hidden.ToString());
        Assert.Contains("tok-SECRET-9911", hidden.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GitIgnoredFiles_AreSkipped_UnlessNoIgnore()
    {
        _temp.WriteText("d/.gitignore", "secrets/\n");
        _temp.WriteText("d/secrets/key.txt", "The password is ignored-PW-7.\n");

        var plain = await RlmProcess.RunAsync(["What is the password?", "--dir", _dir, "--offline"]);
        var all = await RlmProcess.RunAsync(["What is the password?", "--dir", _dir, "--offline", "--no-ignore"]);

        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.DoesNotContain("ignored-PW-7", plain.StdOut, StringComparison.Ordinal);
        Assert.Contains("ignored-PW-7", all.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_Dir_SkipsHiddenFiles_AndVerboseSaysWhy_HiddenReadsThem()
    {
        _temp.WriteText("d/.env", "API_TOKEN=tok-SECRET-4242\n");

        var plain = await RlmProcess.RunAsync(["chat", "--dir", _dir, "--offline", "-v"], stdin: "What is the API_TOKEN?\n");
        var hidden = await RlmProcess.RunAsync(["chat", "--dir", _dir, "--offline", "--hidden"], stdin: "What is the API_TOKEN?\n");

        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.DoesNotContain("tok-SECRET-4242", plain.StdOut, StringComparison.Ordinal);
        Assert.Contains("rlm: skipped 1 (1 hidden)", plain.StdErr, StringComparison.Ordinal);
        Assert.Contains($"rlm: {System.IO.Path.GetRelativePath(System.IO.Path.GetTempPath(), _dir)}/.env [hidden]", plain.StdErr, StringComparison.Ordinal);
        Assert.True(hidden.ExitCode == 0, hidden.ToString());
        Assert.Contains("tok-SECRET-4242", hidden.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WalkOptionsWithoutDir_AreAUsageError()
    {
        _temp.WriteText("f.txt", "text\n");

        var run = await RlmProcess.RunAsync(["q?", "--file", System.IO.Path.Combine(_temp.Path, "f.txt"), "--follow", "--offline"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--follow works only with --dir", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mcp_WithAFifoInTheDirectory_Starts_AndListDocumentsSaysWhatWasSkipped()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        MakeFifo(System.IO.Path.Combine(_dir, "pipe"));
        Directory.CreateSymbolicLink(System.IO.Path.Combine(_dir, "shared"), System.IO.Path.Combine(_temp.Path, "outside"));

        await using var rlm = await RlmMcpClient.StartAsync(["--dir", _dir]).WaitAsync(TimeSpan.FromSeconds(90));
        var result = await rlm.Client.CallToolAsync("list_documents");

        string text = McpServerTests.Text(result);
        Assert.NotEqual(true, result.IsError);
        Assert.StartsWith("1 document", text, StringComparison.Ordinal);
        Assert.Contains("notes.txt\t1 lines", text, StringComparison.Ordinal);
        Assert.Contains("pipe\tspecial_file\tnamed pipe (FIFO): never opened", text, StringComparison.Ordinal);
        Assert.Contains("shared\tsymlink\t", text, StringComparison.Ordinal);
        Assert.DoesNotContain("creds", text, StringComparison.Ordinal);
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
