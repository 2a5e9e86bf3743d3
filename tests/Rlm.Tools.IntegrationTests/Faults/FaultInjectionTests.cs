using System.Diagnostics;
using System.Threading.RateLimiting;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Faults;

/// <summary>
/// Issue 6, "Done when": 60 queries with 8 parallel sub-calls each, through clients built with <c>AsIChatClient()</c> and
/// passed straight to <see cref="RecursiveLanguageModel"/>, against a seeded loopback server that injects every fault
/// kind into a quarter of all responses.
/// </summary>
public sealed class FaultInjectionTests(ITestOutputHelper output)
{
    private const int Queries = 60;
    private const int ParallelQueries = 6;
    private const int Permits = 6;

    [Fact]
    public async Task Every_query_survives_provider_faults_with_each_sub_result_delivered_once_or_counted_as_failed()
    {
        await using var server = await FaultInjectingOpenAIServer.StartAsync(FaultDrill.ServerOptions(faultRate: 0.25, seed: 6));
        using var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = Permits, QueueLimit = int.MaxValue });
        var options = FaultDrill.Options(limiter);
        var rlm = new RecursiveLanguageModel(FaultDrill.Client(server.Endpoint, "root-model"), FaultDrill.Client(server.Endpoint, "worker-model"), options);

        var wall = Stopwatch.StartNew();
        var outcomes = await FaultDrill.RunAsync(server, rlm, 1, Queries, ParallelQueries);
        wall.Stop();
        Report(server, outcomes, wall.Elapsed);

        // Every kind of fault was injected, into at least 20% of all responses.
        Assert.All(FaultInjectingOpenAIServer.AllFaults, kind => Assert.True(server.Faults[kind] > 0, $"{kind} was never injected"));
        Assert.True(server.FaultCount >= 0.2 * server.Requests, $"{server.FaultCount} faults in {server.Requests} responses");

        // Every query returned a result or threw the documented exception: no raw parser or transport exception.
        Assert.Equal(Queries, outcomes.Count);
        Assert.Empty(outcomes.Where(o => o.Kind == DrillOutcomeKind.RawException).Select(o => o.ToString()));
        foreach (var failed in outcomes.Where(o => o.Kind == DrillOutcomeKind.ModelException))
        {
            var e = Assert.IsType<RlmModelException>(failed.Error);
            Assert.True(e.Attempts >= 1, failed.ToString());
            Assert.DoesNotContain('\n', e.Message);
        }

        // Each sub-result reached the root exactly once or was counted as failed: no silent loss, no duplicate.
        Assert.Empty(outcomes.Where(o => o.Kind == DrillOutcomeKind.Inconsistent).Select(o => o.ToString()));
        foreach (var done in outcomes.Where(o => o.Result is not null))
        {
            Assert.All(done.FinalTurn!.DeliveredTokens, token => Assert.Contains(token, done.Result!.Answer, StringComparison.Ordinal));
        }

        Assert.All(server.AnsweredWorkerBodies, body => Assert.True(body.Value == 1, $"worker request {body.Key} was answered {body.Value} times"));
        Assert.True(outcomes.Count(o => o.Result is not null) >= Queries * 9 / 10, "fewer than 90% of the queries returned a result");
        Assert.Contains(outcomes, o => o.Kind == DrillOutcomeKind.SubCallsFailedCounted || o.Kind == DrillOutcomeKind.AllSubResults);

        // Budgets: the sub-call budget per query and the limiter shared by all queries.
        Assert.All(outcomes.Where(o => o.Result is not null), o => Assert.InRange(o.Result!.Statistics.SubCalls, 1, options.MaxSubCalls));
        foreach (var perQuery in server.Attempts.Where(a => !a.IsRoot).GroupBy(a => a.QueryId))
        {
            Assert.InRange(perQuery.Select(a => a.BodyHash).Distinct().Count(), 1, options.MaxSubCalls);
        }

        Assert.True(server.MaxConcurrentRequests <= Permits, $"{server.MaxConcurrentRequests} requests in flight {server.PeakSnapshot}");

        // Back-off: each retry of a body comes after a pause, and after a 429 with Retry-After: 1 at least ~1 s later.
        var retried = server.AttemptsByBody().Where(attempts => attempts.Count > 1).ToList();
        Assert.NotEmpty(retried);
        var gaps = new List<TimeSpan>();
        var afterRateLimit = new List<TimeSpan>();
        foreach (var attempts in retried)
        {
            for (int i = 1; i < attempts.Count; i++)
            {
                // After a hang the server cannot see when the client gave up (its timer started before the request
                // arrived), so no gap is measured from it.
                if (attempts[i - 1].Fault == FaultKind.Hang)
                {
                    continue;
                }

                TimeSpan gap = attempts[i].Arrived - attempts[i - 1].Ended;
                Assert.True(gap > TimeSpan.Zero, $"attempt {i + 1} of {attempts[i].BodyHash} came {gap.TotalMilliseconds:F2} ms after a {attempts[i - 1].Fault}");
                gaps.Add(gap);
                if (attempts[i - 1].Fault == FaultKind.RateLimited)
                {
                    Assert.True(gap >= TimeSpan.FromSeconds(0.9), $"attempt {i + 1} of {attempts[i].BodyHash} came {gap.TotalMilliseconds:F0} ms after a 429 with Retry-After: 1");
                    afterRateLimit.Add(gap);
                }
            }
        }

        Assert.NotEmpty(afterRateLimit);
        // Polly's jittered exponential back-off from 50 ms: its median first wait is about 50 ms; retrying without back-off
        // puts the next attempt well under 1 ms after the failure.
        Assert.True(FaultDrill.Percentile(gaps, 50) >= TimeSpan.FromMilliseconds(25), $"median back-off {FaultDrill.Percentile(gaps, 50).TotalMilliseconds:F1} ms");
        Assert.True(outcomes.Where(o => o.Result is not null).Sum(o => o.Result!.Statistics.ModelRetries) > 0);
    }

    [Fact]
    public async Task With_few_retries_failures_are_counted_sub_calls_or_RlmModelException_never_raw_or_silent()
    {
        // Half of all responses fail and only one retry is allowed: many sub-calls and root turns fail for good.
        var timeout = TimeSpan.FromMilliseconds(500);
        await using var server = await FaultInjectingOpenAIServer.StartAsync(FaultDrill.ServerOptions(faultRate: 0.5, seed: 61, requestTimeout: timeout));
        using var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = Permits, QueueLimit = int.MaxValue });
        var options = FaultDrill.Options(limiter);
        options.MaxModelRetries = 1;
        options.ModelRequestTimeout = timeout;
        var rlm = new RecursiveLanguageModel(FaultDrill.Client(server.Endpoint, "root-model"), FaultDrill.Client(server.Endpoint, "worker-model"), options);

        var wall = Stopwatch.StartNew();
        var outcomes = await FaultDrill.RunAsync(server, rlm, 1, 24, ParallelQueries);
        Report(server, outcomes, wall.Elapsed);

        Assert.Empty(outcomes.Where(o => o.Kind is DrillOutcomeKind.RawException or DrillOutcomeKind.Inconsistent).Select(o => o.ToString()));
        Assert.Contains(outcomes, o => o.Kind == DrillOutcomeKind.SubCallsFailedCounted);
        Assert.Contains(outcomes, o => o.Kind == DrillOutcomeKind.ModelException);
        foreach (var done in outcomes.Where(o => o.Result is not null))
        {
            var statistics = done.Result!.Statistics;
            Assert.Equal(statistics.SubCalls > 0 && statistics.FailedSubCalls == statistics.SubCalls, done.Result.AllSubCallsFailed);
            Assert.InRange(statistics.SubCalls, 1, options.MaxSubCalls);
        }

        foreach (var failed in outcomes.Where(o => o.Kind == DrillOutcomeKind.ModelException))
        {
            var e = Assert.IsType<RlmModelException>(failed.Error);
            Assert.InRange(e.Attempts, 1, options.MaxModelRetries + 1);
            Assert.DoesNotContain('\n', e.Message);
        }

        Assert.True(server.MaxConcurrentRequests <= Permits, $"{server.MaxConcurrentRequests} requests in flight {server.PeakSnapshot}");
    }

    private void Report(FaultInjectingOpenAIServer server, IReadOnlyList<DrillOutcome> outcomes, TimeSpan wall)
    {
        output.WriteLine($"wall {wall.TotalSeconds:F1} s; {server.Requests} requests, {server.FaultCount} faults; max {server.MaxConcurrentRequests} in flight");
        output.WriteLine(string.Join(", ", server.Faults.Select(f => $"{f.Key}={f.Value}")));
        output.WriteLine(string.Join(", ", outcomes.GroupBy(o => o.Kind).Select(g => $"{g.Key}={g.Count()}")));
        var gaps = server.AttemptsByBody().Where(a => a.Count > 1).SelectMany(a => a.Skip(1).Select((attempt, i) => (attempt.Arrived - a[i].Ended, a[i].Fault))).ToList();
        output.WriteLine($"retried bodies: {server.AttemptsByBody().Count(a => a.Count > 1)}; back-off min {gaps.Select(g => g.Item1).DefaultIfEmpty().Min().TotalMilliseconds:F1} ms, " +
            $"p50 {FaultDrill.Percentile(gaps.Select(g => g.Item1), 50).TotalMilliseconds:F1} ms, after 429 min {gaps.Where(g => g.Fault == FaultKind.RateLimited).Select(g => g.Item1).DefaultIfEmpty().Min().TotalMilliseconds:F0} ms");
        foreach (var outcome in outcomes.Where(o => o.Kind != DrillOutcomeKind.AllSubResults))
        {
            output.WriteLine(outcome.ToString());
        }
    }
}
