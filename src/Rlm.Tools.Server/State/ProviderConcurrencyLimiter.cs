using System.Threading.RateLimiting;
using RedisRateLimiting;

namespace Rlm.Tools.Server.State;

/// <summary>
/// <c>--provider-concurrency N</c>: at most N model requests in flight across all replicas while Redis answers
/// (RedisRateLimiting's <see cref="RedisConcurrencyRateLimiter{TKey}"/>, leases in one Redis sorted set), and at most N on
/// each replica while it does not (a local <see cref="ConcurrencyLimiter"/>): a lost Redis never stops queries, it only
/// loosens the bound to N per replica. Plugged into <see cref="RlmOptions.ConcurrencyLimiter"/>: one permit per attempt of
/// each model request, held while it is in flight.
/// </summary>
/// <remarks>
/// The Redis limiter keeps each lease with its start time and drops leases older than 60 seconds at every acquire. So a
/// replica that dies holding leases frees them within 60 seconds (until then the cluster has fewer permits), and a single
/// model request longer than 60 seconds stops counting then (the provider may see more than N). Waiting requests are
/// queued in Redis and retried every <see cref="DequeuePeriod"/> by the replica that queued them; AttemptAcquire always
/// refuses (the package's rule), which the engine does not use.
/// </remarks>
internal sealed class ProviderConcurrencyLimiter : RateLimiter
{
    /// <summary>How often a replica retries its queued requests against Redis: a freed permit is taken within this.</summary>
    public static readonly TimeSpan DequeuePeriod = TimeSpan.FromMilliseconds(20);

    // Every model request of a busy host may wait: a full queue would turn into retried "busy" failures instead.
    private const int QueueLimit = 100_000;

    private readonly ConcurrencyLimiter _local;
    private readonly RedisConcurrencyRateLimiter<string>? _shared;
    private readonly RedisConnection? _connection;

    /// <param name="permitLimit">N: model requests in flight across the replicas (each replica's own bound without Redis).</param>
    /// <param name="connection">The replica's Redis connection, or <see langword="null"/> without Redis.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="permitLimit"/> is less than 1.</exception>
    public ProviderConcurrencyLimiter(int permitLimit, RedisConnection? connection)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permitLimit, 1);
        PermitLimit = permitLimit;
        _local = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = permitLimit,
            QueueLimit = QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        if (connection is not null)
        {
            _connection = connection;
            _shared = new RedisConcurrencyRateLimiter<string>("rlm-provider", new RedisConcurrencyRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => connection.Multiplexer,
                PermitLimit = permitLimit,
                QueueLimit = QueueLimit,
                TryDequeuePeriod = DequeuePeriod,
            });
        }
    }

    /// <summary>Gets N.</summary>
    public int PermitLimit { get; }

    /// <summary>Gets whether permits come from Redis now (shared by the replicas) rather than from this replica alone.</summary>
    public bool IsShared => _shared is not null && _connection!.IsAvailable;

    public override TimeSpan? IdleDuration => _local.IdleDuration;

    public override RateLimiterStatistics? GetStatistics() => _local.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        IsShared ? _shared!.AttemptAcquire(permitCount) : _local.AttemptAcquire(permitCount);

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (IsShared)
        {
            // A wait in Redis's queue ends when Redis is lost (ConnectedToken), and the request goes on under the local bound.
            var connected = _connection!.ConnectedToken;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connected);
            try
            {
                var lease = await _shared!.AcquireAsync(permitCount, linked.Token).ConfigureAwait(false);
                if (lease.IsAcquired || !connected.IsCancellationRequested)
                {
                    return lease;
                }

                lease.Dispose();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException) when (connected.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
            {
                _connection.ReportFailure(e);
            }
        }

        return await _local.AcquireAsync(permitCount, cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _shared?.Dispose();
            _local.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        if (_shared is not null)
        {
            await _shared.DisposeAsync().ConfigureAwait(false);
        }

        await _local.DisposeAsync().ConfigureAwait(false);
    }
}
