using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// A real <c>redis-server</c> started by the test on a free loopback port (no persistence), which a test can stop and start
/// again on the same port (an outage), and which is killed when disposed. Redis is never assumed to be running.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private Process? _process;

    private RedisServerProcess(int port) => Port = port;

    /// <summary>Gets the port Redis listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Gets <c>127.0.0.1:PORT</c>, as <c>--redis</c> takes it.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>Starts redis-server on a free port and waits until it answers PING.</summary>
    public static async Task<RedisServerProcess> StartAsync()
    {
        var redis = new RedisServerProcess(FreePort());
        await redis.StartAgainAsync();
        return redis;
    }

    /// <summary>Gets a free loopback TCP port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the server (again) on <see cref="Port"/> and waits until it answers PING (10 s at most).</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server; .ci/run installs it)", e);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await PingAsync())
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not answer PING within 10 s (exited: {_process.HasExited})");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Kills the server (an outage: connections drop at once) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Whether the server answers PING with PONG (RESP inline command over a plain socket).</summary>
    public async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[16];
            int read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
