using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using Rlm.Tools;
using Rlm.Tools.IntegrationTests.Faults;

// rlm-faultbench: N queries (8 parallel sub_llm calls each) through RecursiveLanguageModel against a loopback
// OpenAI-compatible server that injects every provider fault of issue 6 into a fraction of all responses.
// Usage: dotnet run --project benchmarks/Rlm.Tools.FaultBench -c Release -- [--queries 100] [--rates 0,10,20,30]
//        [--parallel 8] [--permits 6] [--seed 6]
int queries = 100, parallel = 8, permits = 6, seed = 6;
double[] rates = [0, 10, 20, 30];
for (int i = 0; i + 1 < args.Length; i += 2)
{
    string value = args[i + 1];
    switch (args[i])
    {
        case "--queries": queries = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--parallel": parallel = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--permits": permits = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--rates": rates = [.. value.Split(',').Select(r => double.Parse(r, CultureInfo.InvariantCulture))]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

var rows = new List<string>();
var faultRows = new List<string>();
foreach (double rate in rates)
{
    await using var server = await FaultInjectingOpenAIServer.StartAsync(FaultDrill.ServerOptions(rate / 100, seed));
    using var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = int.MaxValue });
    var rlm = new RecursiveLanguageModel(
        FaultDrill.Client(server.Endpoint, "root-model"),
        FaultDrill.Client(server.Endpoint, "worker-model"),
        FaultDrill.Options(limiter));
    var wall = Stopwatch.StartNew();
    var outcomes = await FaultDrill.RunAsync(server, rlm, 1, queries, parallel);
    wall.Stop();

    int Count(DrillOutcomeKind kind) => outcomes.Count(o => o.Kind == kind);
    var times = outcomes.Select(o => o.Elapsed).ToList();
    string Seconds(TimeSpan t) => t.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s";
    rows.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {rate:0}% | {server.FaultCount} / {server.Requests} | {queries} | {Count(DrillOutcomeKind.AllSubResults)} | {Count(DrillOutcomeKind.SubCallsFailedCounted)} | {Count(DrillOutcomeKind.ModelException)} | {Count(DrillOutcomeKind.Inconsistent) + Count(DrillOutcomeKind.RawException)} | {Seconds(FaultDrill.Percentile(times, 50))} | {Seconds(FaultDrill.Percentile(times, 95))} | {Seconds(wall.Elapsed)} | {server.MaxConcurrentRequests} |"));
    faultRows.Add($"| {rate:0}% | " + string.Join(" | ", FaultInjectingOpenAIServer.AllFaults.Select(k => server.Faults[k].ToString(CultureInfo.InvariantCulture))) + " |");
    if (server.MaxConcurrentRequests > permits)
    {
        Console.Error.WriteLine($"{rate}%: {server.MaxConcurrentRequests} requests in flight, more than {permits} permits: {server.PeakSnapshot}");
    }

    foreach (var bad in outcomes.Where(o => o.Kind is DrillOutcomeKind.Inconsistent or DrillOutcomeKind.RawException))
    {
        Console.Error.WriteLine(bad);
    }
}

Console.WriteLine($"{queries} queries per fault rate, {parallel} at a time, 8 parallel sub_llm calls each; one ConcurrencyLimiter of {permits} permits shared by all; seed {seed}.");
Console.WriteLine();
Console.WriteLine("| injected faults | faults / requests | queries | completed, all 8 sub-results | completed, some sub-calls failed (counted) | RlmModelException | lost, duplicated or raw exception | time p50 | time p95 | wall | max requests in flight |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
rows.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine("| injected faults | " + string.Join(" | ", FaultInjectingOpenAIServer.AllFaults) + " |");
Console.WriteLine("|---:|" + string.Concat(Enumerable.Repeat("---:|", FaultInjectingOpenAIServer.AllFaults.Count)));
faultRows.ForEach(Console.WriteLine);
return 0;
