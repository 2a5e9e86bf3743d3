using System.Diagnostics;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Faults;

public sealed class FaultInjectionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Smoke()
    {
        await using var server = await FaultInjectingOpenAIServer.StartAsync(new FaultServerOptions { Seed = 6, FaultRate = 0.2, HangLimit = TimeSpan.FromSeconds(5) });
        var rlm = new RecursiveLanguageModel(FaultDrill.Client(server.Endpoint, "root-model"), FaultDrill.Client(server.Endpoint, "worker-model"), new RlmOptions { MaxSubCalls = 8, MaxConcurrency = 8 });
        var sw = Stopwatch.StartNew();
        var outcomes = await FaultDrill.RunAsync(server, rlm, 1, 20, 4);
        output.WriteLine($"wall {sw.Elapsed}, requests {server.Requests}, max concurrent {server.MaxConcurrentRequests}");
        foreach (var o in outcomes) output.WriteLine(o.ToString());
        foreach (var (k, v) in server.Faults) output.WriteLine($"{k}: {v}");
    }
}
