using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Rlm.Tools.IntegrationTests.Cli;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// A real <c>rlm serve</c> process (<c>dotnet rlm.dll serve ... --urls http://127.0.0.1:0</c>): started, its port read from the
/// one "listening on" line of stdout, stopped with a real SIGTERM (or killed) and its exit code, stdout and stderr kept.
/// </summary>
public sealed partial class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _listening.TrySetException(new InvalidOperationException($"rlm serve ended before it listened:\n{StdErr}"));
                return;
            }

            lock (_stdout)
            {
                _stdout.AppendLine(e.Data);
            }

            if (ListeningLine().Match(e.Data) is { Success: true } match)
            {
                _listening.TrySetResult(new Uri(match.Groups["url"].Value.TrimEnd('/') + "/"));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stderr.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Gets the address the server listens on (<c>http://127.0.0.1:PORT/</c>).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Gets the process id.</summary>
    public int Id => _process.Id;

    /// <summary>Gets what the process wrote on stdout so far.</summary>
    public string StdOut { get { lock (_stdout) { return _stdout.ToString(); } } }

    /// <summary>Gets what the process wrote on stderr so far.</summary>
    public string StdErr => string.Join('\n', _stderr);

    /// <summary>
    /// Starts <c>rlm serve</c> with <paramref name="args"/> (add no --urls: <paramref name="urls"/>, by default a free loopback
    /// port, is used) and waits until it listens.
    /// </summary>
    public static async Task<ServeProcess> StartAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string urls = "http://127.0.0.1:0")
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (string arg in (string[])[RlmProcess.RlmDll, "serve", "--urls", urls, .. args])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("OPENAI_API_KEY");
        info.Environment.Remove("OPENAI_BASE_URL");
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
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

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var serve = new ServeProcess(process);
        try
        {
            serve.BaseAddress = await serve._listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }

        return serve;
    }

    /// <summary>Sends SIGTERM (or <paramref name="signal"/>, e.g. <c>INT</c>) and waits for the exit (at most <paramref name="timeout"/>); returns the exit code and how long the stop took.</summary>
    public async Task<(int ExitCode, TimeSpan Elapsed)> TerminateAsync(TimeSpan timeout, string signal = "TERM")
    {
        var started = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"rlm serve did not exit within {timeout.TotalSeconds:N0} s of SIG{signal}:\n{StdErr}");
        }

        _process.WaitForExit(); // the output readers are drained
        return (_process.ExitCode, started.Elapsed);
    }

    /// <summary>Waits until stderr holds <paramref name="text"/> (a log line written just after a response), at most 10 s.</summary>
    public async Task WaitForStdErrAsync(string text)
    {
        for (var watch = Stopwatch.StartNew(); !StdErr.Contains(text, StringComparison.Ordinal); await Task.Delay(50))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stderr never held '{text}':\n{StdErr}");
        }
    }

    /// <summary>Waits for the process to end by itself.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    public override string ToString() => $"--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";

    [GeneratedRegex(@"^rlm serve: listening on (?<url>http://\S+)")]
    private static partial Regex ListeningLine();
}
