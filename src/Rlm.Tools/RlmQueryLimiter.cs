using System.Diagnostics;
using System.Threading.RateLimiting;

namespace Rlm.Tools;

/// <summary>
/// A limit on the queries a host runs at once, shared by every corpus tool of the host
/// (<see cref="RecursiveLanguageModel.AsAIFunction(RlmCorpus, RlmCorpusToolOptions)"/>, the MCP server's <c>query</c>):
/// a query past the limit waits in a first-come queue, reporting <see cref="RlmQueryQueued"/> progress, and fails with
/// <see cref="RlmServerBusyException"/> when it has waited <see cref="QueueTimeout"/> or when
/// <see cref="MaxQueuedQueries"/> already wait. Built on System.Threading.RateLimiting's <see cref="ConcurrencyLimiter"/>.
/// </summary>
public sealed class RlmQueryLimiter : IDisposable
{
    /// <summary>The most queries that may wait at once; past it a query is refused at once.</summary>
    public const int MaxQueuedQueries = 1_000;

    // How often a waiting query reports that it still waits (MCP clients reset their timeouts on progress).
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(2);

    private readonly ConcurrencyLimiter _limiter;
    private int _running;

    /// <summary>Creates a limit of <paramref name="maxConcurrentQueries"/> queries at once, each waiting at most <paramref name="queueTimeout"/> for its turn.</summary>
    /// <param name="maxConcurrentQueries">The most queries running at once; at least 1.</param>
    /// <param name="queueTimeout">How long a query may wait for its turn; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxConcurrentQueries"/> is less than 1, or <paramref name="queueTimeout"/> is not positive.</exception>
    public RlmQueryLimiter(int maxConcurrentQueries, TimeSpan queueTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentQueries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(queueTimeout, TimeSpan.Zero);
        MaxConcurrentQueries = maxConcurrentQueries;
        QueueTimeout = queueTimeout;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = maxConcurrentQueries,
            QueueLimit = MaxQueuedQueries,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>
    /// Gets the limit every corpus tool of this process uses unless its options name another: 4 queries at once, each
    /// waiting at most 2 minutes for its turn.
    /// </summary>
    public static RlmQueryLimiter Shared { get; } = new(4, TimeSpan.FromMinutes(2));

    /// <summary>Gets the most queries running at once.</summary>
    public int MaxConcurrentQueries { get; }

    /// <summary>Gets how long a query may wait for its turn before it fails with <see cref="RlmServerBusyException"/>.</summary>
    public TimeSpan QueueTimeout { get; }

    /// <summary>Gets the queries running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <inheritdoc />
    public void Dispose() => _limiter.Dispose();

    /// <summary>Waits for a turn; the returned lease ends it. Reports to <paramref name="progress"/> while it waits.</summary>
    /// <exception cref="RlmServerBusyException">The wait reached <see cref="QueueTimeout"/>, or the queue is full.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    internal async Task<IDisposable> EnterAsync(Action<RlmEvent>? progress, CancellationToken cancellationToken)
    {
        var lease = _limiter.AttemptAcquire(1);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            lease = await WaitAsync(progress, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _running);
        return new Turn(this, lease);
    }

    private async Task<RateLimitLease> WaitAsync(Action<RlmEvent>? progress, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(QueueTimeout);
        var acquire = _limiter.AcquireAsync(1, deadline.Token).AsTask();
        while (true)
        {
            progress?.Invoke(new RlmQueryQueued(Stopwatch.GetElapsedTime(started), 0, Running, MaxConcurrentQueries, QueueTimeout));
            if (await Task.WhenAny(acquire, Task.Delay(s_progressInterval, deadline.Token)).ConfigureAwait(false) == acquire)
            {
                break;
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (deadline.IsCancellationRequested)
            {
                break;
            }
        }

        RateLimitLease lease;
        try
        {
            lease = await acquire.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RlmServerBusyException(Busy($"this query waited {Seconds(QueueTimeout)} for its turn, the longest a query waits"));
        }

        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new RlmServerBusyException(Busy($"{MaxQueuedQueries:N0} more queries already wait for their turn"));
        }

        return lease;
    }

    private string Busy(string why) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the server is busy: {MaxConcurrentQueries} queries are running, the most it runs at once, and {why}. Try again later.");

    private static string Seconds(TimeSpan value) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###} s");

    private sealed class Turn(RlmQueryLimiter owner, RateLimitLease lease) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._running);
                lease.Dispose();
            }
        }
    }
}
