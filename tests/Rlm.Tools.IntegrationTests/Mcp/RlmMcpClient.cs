using System.Collections.Concurrent;
using ModelContextProtocol.Client;
using Rlm.Tools.IntegrationTests.Cli;

namespace Rlm.Tools.IntegrationTests.Mcp;

/// <summary>The official C# <see cref="McpClient"/> connected over stdio to a real <c>rlm mcp</c> child process, with its stderr captured.</summary>
public sealed class RlmMcpClient : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _stderr = new();

    private RlmMcpClient()
    {
    }

    /// <summary>Gets the connected client.</summary>
    public McpClient Client { get; private set; } = null!;

    /// <summary>Gets the server's stderr lines so far.</summary>
    public IReadOnlyList<string> StdErrLines => [.. _stderr];

    /// <summary>Gets the server's stderr so far, as one text.</summary>
    public string StdErr => string.Join('\n', _stderr);

    /// <summary>Starts <c>dotnet rlm.dll mcp {args}</c> with no <c>OPENAI_*</c> variables (unless given) and connects to it.</summary>
    public static async Task<RlmMcpClient> StartAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var client = new RlmMcpClient();
        var variables = new Dictionary<string, string?>
        {
            ["OPENAI_API_KEY"] = null,
            ["OPENAI_BASE_URL"] = null,
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "rlm",
            Command = DotnetHost,
            Arguments = [RlmProcess.RlmDll, "mcp", .. args],
            EnvironmentVariables = variables,
            WorkingDirectory = Path.GetTempPath(),
            StandardErrorLines = client._stderr.Enqueue,
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            client.Client = await McpClient.CreateAsync(transport, new McpClientOptions { ClientInfo = new() { Name = "rlm-tests", Version = "1.0.0" } }, cancellationToken: timeout.Token);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"rlm mcp did not start: {e.Message}\n--- stderr ---\n{client.StdErr}", e);
        }

        return client;
    }

    /// <summary>Gets the <c>dotnet</c> host that runs the tests, or <c>dotnet</c> from PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Waits until a stderr line contains <paramref name="fragment"/>.</summary>
    public async Task<string> WaitForStdErrAsync(string fragment, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_stderr.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no stderr line with \"{fragment}\" within {timeout.TotalSeconds:N0} s:\n{StdErr}");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }
    }
}
