using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Rlm.Tools.IntegrationTests.Faults;

/// <summary>How one query of a fault drill ended.</summary>
public enum DrillOutcomeKind
{
    /// <summary>A result in which every sub-result reached the root.</summary>
    AllSubResults,

    /// <summary>A result in which some sub-calls failed, each counted in <see cref="RlmStatistics.FailedSubCalls"/>.</summary>
    SubCallsFailedCounted,

    /// <summary>A result that lost or duplicated a sub-result (a bug).</summary>
    Inconsistent,

    /// <summary>The documented <see cref="RlmModelException"/>.</summary>
    ModelException,

    /// <summary>Any other exception (a bug: a raw parser or transport exception escaped).</summary>
    RawException,
}

/// <summary>One query of a fault drill.</summary>
public sealed record DrillOutcome(string QueryId, DrillOutcomeKind Kind, RlmResult? Result, Exception? Error, FinalTurn? FinalTurn, TimeSpan Elapsed)
{
    /// <summary>Describes the outcome in one line, for assertion messages.</summary>
    public override string ToString() =>
        $"{QueryId}: {Kind} in {Elapsed.TotalMilliseconds:F0} ms; " +
        (Result is { } r ? $"stop={r.StopReason} subCalls={r.Statistics.SubCalls} failed={r.Statistics.FailedSubCalls} " : "") +
        (FinalTurn is { } f ? $"delivered=[{string.Join(", ", f.DeliveredTokens)}] errors={f.ErrorResults} " : "no final turn ") +
        (Error is { } e ? $"{e.GetType().FullName}: {e.Message}" : "");
}

/// <summary>
/// Runs queries through <see cref="RecursiveLanguageModel"/> against a <see cref="FaultInjectingOpenAIServer"/>, with
/// clients built the plain Microsoft.Extensions.AI way, and classifies each outcome. Shared by the integration test and
/// the <c>Rlm.Tools.FaultBench</c> benchmark.
/// </summary>
public static class FaultDrill
{
    /// <summary>An <see cref="IChatClient"/> for <paramref name="model"/> at <paramref name="endpoint"/>: the OpenAI client with its own retries off, as <c>AsIChatClient()</c>.</summary>
    public static IChatClient Client(Uri endpoint, string model) =>
        new OpenAIClient(new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = endpoint, RetryPolicy = new ClientRetryPolicy(0) })
            .GetChatClient(model)
            .AsIChatClient();

    /// <summary>The parts a query fans out to; also its sub-call budget (<see cref="RlmOptions.MaxSubCalls"/>), so a repeated sub-call would hit it.</summary>
    public const int Parts = 8;

    /// <summary>The timeout of one model request in a drill (<see cref="RlmOptions.ModelRequestTimeout"/>).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Server options for a drill at <paramref name="faultRate"/> (0..1); <paramref name="requestTimeout"/> is the client's, <see cref="RequestTimeout"/> when <see langword="null"/>.</summary>
    public static FaultServerOptions ServerOptions(double faultRate, int seed, TimeSpan? requestTimeout = null) =>
        new() { Seed = seed, FaultRate = faultRate, SubCallsPerQuery = Parts, ClientAttemptTimeout = requestTimeout ?? RequestTimeout };

    /// <summary>
    /// Options for a drill: one model request may take 2 s, 6 retries with back-off from 50 ms up to 2 s (Retry-After
    /// included), the sub-call budget exactly <see cref="Parts"/>, and <paramref name="limiter"/> shared by every query.
    /// </summary>
    public static RlmOptions Options(RateLimiter limiter) => new()
    {
        ModelRequestTimeout = RequestTimeout,
        MaxModelRetries = 6,
        ModelRetryBaseDelay = TimeSpan.FromMilliseconds(50),
        ModelRetryMaxDelay = TimeSpan.FromSeconds(2),
        ConcurrencyLimiter = limiter,
        MaxSubCalls = Parts,
        MaxConcurrency = Parts,
        MaxIterations = 6,
    };

    /// <summary>Runs queries <c>Q{first}</c>..<c>Q{first+count-1}</c>, <paramref name="parallelQueries"/> at a time.</summary>
    public static async Task<IReadOnlyList<DrillOutcome>> RunAsync(
        FaultInjectingOpenAIServer server, RecursiveLanguageModel rlm, int first, int count, int parallelQueries, CancellationToken cancellationToken = default)
    {
        string context = server.Context();
        var outcomes = new DrillOutcome[count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = parallelQueries, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                int n = first + i;
                string queryId = "Q" + n.ToString(CultureInfo.InvariantCulture);
                long started = Stopwatch.GetTimestamp();
                RlmResult? result = null;
                Exception? error = null;
                try
                {
                    result = await rlm.QueryAsync(FaultInjectingOpenAIServer.Question(n), context, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    error = e;
                }

                TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
                server.FinalTurns.TryGetValue(queryId, out FinalTurn? final);
                outcomes[i] = new DrillOutcome(queryId, Classify(result, error, final, server.Options.SubCallsPerQuery), result, error, final, elapsed);
            }).ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>
    /// A result is consistent when the final turn of the root read every part exactly once or as a counted failure:
    /// distinct delivered tokens + <see cref="RlmStatistics.FailedSubCalls"/> = parts, and no token twice.
    /// </summary>
    public static DrillOutcomeKind Classify(RlmResult? result, Exception? error, FinalTurn? final, int parts)
    {
        if (error is not null)
        {
            return error is RlmModelException ? DrillOutcomeKind.ModelException : DrillOutcomeKind.RawException;
        }

        if (result is null || final is null || !result.IsFinal)
        {
            return DrillOutcomeKind.Inconsistent;
        }

        int distinct = final.DeliveredTokens.Distinct(StringComparer.Ordinal).Count();
        bool consistent = distinct == final.DeliveredTokens.Count
            && final.Results == parts
            && distinct + result.Statistics.FailedSubCalls == parts
            && final.ErrorResults == result.Statistics.FailedSubCalls;
        if (!consistent)
        {
            return DrillOutcomeKind.Inconsistent;
        }

        return result.Statistics.FailedSubCalls == 0 ? DrillOutcomeKind.AllSubResults : DrillOutcomeKind.SubCallsFailedCounted;
    }

    /// <summary>The value at <paramref name="percentile"/> (0..100) of <paramref name="values"/>, nearest rank.</summary>
    public static TimeSpan Percentile(IEnumerable<TimeSpan> values, double percentile)
    {
        var sorted = values.OrderBy(v => v).ToList();
        if (sorted.Count == 0)
        {
            return TimeSpan.Zero;
        }

        int rank = (int)Math.Ceiling(percentile / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
