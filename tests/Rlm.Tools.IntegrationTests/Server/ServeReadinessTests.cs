using System.Net;
using System.Text.Json;
using Rlm.Tools.IntegrationTests.Cli;
using static Rlm.Tools.IntegrationTests.Server.ServeTestSupport;

namespace Rlm.Tools.IntegrationTests.Server;

/// <summary>
/// <c>/readyz</c> of a real <c>rlm serve</c>: <c>not_configured</c> without <c>--redis</c>; <c>connected</c> with a real
/// redis-server, then <c>degraded</c>/<c>unavailable</c> (still 200: the balancer keeps the replica) once Redis is stopped,
/// while queries are still answered.
/// </summary>
public sealed class ServeReadinessTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task WithoutRedis_ReadyAndNotConfigured()
    {
        await using var serve = await ServeProcess.StartAsync(["--offline"]);
        using var http = Client(serve.BaseAddress);
        Assert.Equal(("ready", "not_configured"), await ReadyAsync(http, HttpStatusCode.OK));
        Assert.Equal("""{"status":"ok"}""", await http.GetStringAsync("healthz"));
    }

    [Fact]
    public async Task RedisStopped_ReadyzSaysDegraded_Still200_AndQueriesAreAnswered()
    {
        string facts = _temp.WriteText("facts.txt", "The launch code is TANGO-4471.\n");
        await using var redis = await RedisServerProcess.StartAsync();
        await using var serve = await ServeProcess.StartAsync(["--offline", "--file", facts, "--redis", redis.Endpoint]);
        using var http = Client(serve.BaseAddress);
        Assert.Equal(("ready", "connected"), await ReadyAsync(http, HttpStatusCode.OK));

        await redis.StopAsync();
        var answer = await http.PostAsync("v1/corpora/default/query", JsonBody("""{"question":"What is the launch code?"}"""));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("TANGO-4471", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        for (var watch = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(200))
        {
            var status = await ReadyAsync(http, HttpStatusCode.OK);
            if (status == ("degraded", "unavailable"))
            {
                break;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"readyz still says {status} with Redis stopped");
        }
    }

    private static async Task<(string Status, string Redis)> ReadyAsync(HttpClient http, HttpStatusCode expected)
    {
        var response = await http.GetAsync("readyz");
        Assert.Equal(expected, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (json.GetProperty("status").GetString()!, json.GetProperty("redis").GetString()!);
    }
}
