using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// A running <c>rlm</c> process driven line by line, for <c>rlm chat</c>: write a question, wait for a line on stdout or
/// stderr, send SIGINT, close stdin. Started like <see cref="RlmProcess"/> (the built <c>rlm.dll</c>, no <c>OPENAI_*</c>
/// variables unless given). Disposing kills the process if it is still running.
/// </summary>
public sealed class ChatProcess : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChatProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Gets the lines written to stdout so far.</summary>
    public IReadOnlyList<string> StdOutLines { get { lock (_stdout) { return [.. _stdout]; } } }

    /// <summary>Gets the lines written to stderr so far.</summary>
    public IReadOnlyList<string> StdErrLines { get { lock (_stderr) { return [.. _stderr]; } } }

    /// <summary>Starts <c>rlm</c> with <paramref name="args"/>, stdin open.</summary>
    public static ChatProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(RlmProcess.RlmDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("OPENAI_API_KEY");
        info.Environment.Remove("OPENAI_BASE_URL");
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
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

        var process = new Process { StartInfo = info };
        var chat = new ChatProcess(process);
        process.OutputDataReceived += (_, e) => chat.Add(chat._stdout, chat._stdoutClosed, e.Data);
        process.ErrorDataReceived += (_, e) => chat.Add(chat._stderr, chat._stderrClosed, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return chat;
    }

    /// <summary>Writes one line to the process's stdin.</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteAsync(line + "\n");
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Closes stdin (end of input, as Ctrl+D on a terminal).</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Sends SIGINT (what Ctrl+C sends) to the process.</summary>
    public async Task InterruptAsync()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits until a stdout line satisfies <paramref name="match"/>; fails with what was seen after 90 s.</summary>
    public Task<string> WaitForStdOutAsync(Func<string, bool> match) => WaitForAsync(_stdout, match, "stdout");

    /// <summary>Waits until a stderr line satisfies <paramref name="match"/>; fails with what was seen after 90 s.</summary>
    public Task<string> WaitForStdErrAsync(Func<string, bool> match) => WaitForAsync(_stderr, match, "stderr");

    /// <summary>Waits for the process to exit and its output to be read; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var cts = new CancellationTokenSource(s_wait);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"rlm did not exit within {s_wait.TotalSeconds:N0} s.\n{this}");
        }

        return _process.ExitCode;
    }

    public override string ToString() =>
        $"--- stdout ---\n{string.Join('\n', StdOutLines)}\n--- stderr ---\n{string.Join('\n', StdErrLines)}";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void Add(List<string> lines, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (lines)
        {
            lines.Add(line);
        }
    }

    private async Task<string> WaitForAsync(List<string> lines, Func<string, bool> match, string stream)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (DateTime.UtcNow < deadline)
        {
            lock (lines)
            {
                if (lines.FirstOrDefault(match) is { } found)
                {
                    return found;
                }
            }

            await Task.Delay(50);
        }

        Assert.Fail($"no matching line on {stream} within {s_wait.TotalSeconds:N0} s.\n{this}");
        return string.Empty;
    }
}
