using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Rlm.Tools.IntegrationTests.Server;

// rlm serve with 1 and 3 replicas sharing one redis-server, against a loopback provider with a fixed latency: each query
// is a root turn, one sub_llm (a worker request) and the final root turn; the replicas share the provider limit.
//   dotnet run --project benchmarks/Rlm.Tools.ReplicaBench -c Release -- --queries 600 --parallel 64
var options = BenchOptions.Parse(args);
string corpus = Path.Combine(Path.GetTempPath(), $"rlm-replica-bench-{Environment.ProcessId}.txt");
await File.WriteAllTextAsync(corpus, ClusterProvider.Corpus());
Console.WriteLine($"{options.Queries} queries, {options.Parallel} at a time, provider latency {options.RootLatencyMs} ms (root) / {options.WorkerLatencyMs} ms (worker), --provider-concurrency {options.ProviderConcurrency}");
Console.WriteLine();
Console.WriteLine("| replicas | queries | failed | wall | queries/s | p50 | p95 | max provider requests in flight |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
try
{
    foreach (int replicas in options.Replicas)
    {
        Console.WriteLine(await RunAsync(replicas));
    }
}
finally
{
    File.Delete(corpus);
}

async Task<string> RunAsync(int replicas)
{
    await using var redis = await RedisServerProcess.StartAsync();
    await using var provider = await ClusterProvider.StartAsync();
    provider.RootLatency = TimeSpan.FromMilliseconds(options.RootLatencyMs);
    provider.WorkerLatency = TimeSpan.FromMilliseconds(options.WorkerLatencyMs);
    var servers = new List<Serve>();
    try
    {
        for (int i = 0; i < replicas; i++)
        {
            servers.Add(await Serve.StartAsync(options.RlmDll, corpus, provider.Endpoint, redis.Endpoint, options.ProviderConcurrency));
        }

        var clients = servers.Select(s => new HttpClient { BaseAddress = s.BaseAddress, Timeout = TimeSpan.FromMinutes(5) }).ToList();
        for (int i = 0; i < 4 * replicas; i++)
        {
            await QueryAsync(clients[i % replicas], $"Q: warm-up {i}");
        }

        provider.ResetPeak();
        var latencies = new double[options.Queries];
        int failed = 0, next = -1;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Parallel).Select(async _ =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < options.Queries;)
            {
                var watch = Stopwatch.StartNew();
                if (!await QueryAsync(clients[i % replicas], $"Q: line one? (query {i})"))
                {
                    Interlocked.Increment(ref failed);
                }

                latencies[i] = watch.Elapsed.TotalSeconds;
            }
        }));
        wall.Stop();
        Array.Sort(latencies);
        clients.ForEach(c => c.Dispose());
        return string.Create(CultureInfo.InvariantCulture,
            $"| {replicas} | {options.Queries} | {failed} | {wall.Elapsed.TotalSeconds:F2} s | {options.Queries / wall.Elapsed.TotalSeconds:F1} | {Percentile(latencies, 0.50):F3} s | {Percentile(latencies, 0.95):F3} s | {provider.PeakInFlight} |");
    }
    finally
    {
        foreach (var server in servers)
        {
            server.Dispose();
        }
    }
}

static async Task<bool> QueryAsync(HttpClient client, string question)
{
    using var response = await client.PostAsJsonAsync("v1/corpora/default/query", new { question });
    if (!response.IsSuccessStatusCode)
    {
        return false;
    }

    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    return json.RootElement.GetProperty("answer").GetString()?.Contains("worker saw: " + question, StringComparison.Ordinal) == true;
}

static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

/// <summary>One <c>rlm serve</c> process on a free loopback port.</summary>
internal sealed partial class Serve : IDisposable
{
    private readonly Process _process;

    private Serve(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<Serve> StartAsync(string rlmDll, string corpus, Uri provider, string redis, int providerConcurrency)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[]
        {
            rlmDll, "serve", "--urls", "http://127.0.0.1:0", "--file", corpus, "--base-url", provider.ToString(), "--model", "cluster-model",
            "--redis", redis, "--provider-concurrency", providerConcurrency.ToString(CultureInfo.InvariantCulture), "--max-concurrent-queries", "100000",
        })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["OPENAI_API_KEY"] = "sk-bench";
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (Listening().Match(line) is { Success: true } match)
            {
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return new Serve(process, new Uri(match.Groups["url"].Value.TrimEnd('/') + "/"));
            }
        }

        throw new InvalidOperationException("rlm serve ended before it listened");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"^rlm serve: listening on (?<url>http://\S+)")]
    private static partial Regex Listening();
}

/// <summary>The command line of the bench.</summary>
internal sealed record BenchOptions(int[] Replicas, int Queries, int Parallel, int RootLatencyMs, int WorkerLatencyMs, int ProviderConcurrency, string RlmDll)
{
    public static BenchOptions Parse(string[] args)
    {
        string Value(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        int Number(string name, int fallback) => int.Parse(Value(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        // The rlm.dll of the Cli project's own output (same configuration and framework as this bench).
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string repo = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        string rlm = Value("--rlm", Path.Combine(repo, "src", "Rlm.Tools.Cli", "bin", here.Parent!.Name, here.Name, "rlm.dll"));
        return new BenchOptions(
            [.. Value("--replicas", "1,3").Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture))],
            Number("--queries", 600), Number("--parallel", 64), Number("--root-latency-ms", 20), Number("--worker-latency-ms", 50),
            Number("--provider-concurrency", 32), rlm);
    }
}
