using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Rlm.Tools.Server.State;

/// <summary>
/// The one Redis connection of a replica, shared by the distributed cache, the sub-call cache and the provider limiter,
/// and whether Redis is reachable now. Fail-fast commands make a disconnected Redis cost milliseconds; the
/// client reconnects by itself, and a probe each second turns a failure someone reported back into "connected" once a
/// PING answers. Each change is logged once: a warning when Redis is lost, information when it is back.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// How long a reconnection attempt or a command may take before Redis counts as unavailable. A disconnected Redis
    /// fails commands at once (fail-fast), so this only bounds a connected Redis that stops answering; it is not shorter
    /// because a busy host's commands would then time out and flip the replica to local state for nothing.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>How long the first connection at start may take (a busy machine's handshake) before the replica starts without Redis.</summary>
    public static readonly TimeSpan FirstConnectTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan s_probePeriod = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger;
    private readonly string _endpoint;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _probe;
    private CancellationTokenSource _connected = new();
    private bool _available;

    /// <param name="configuration"><c>HOST:PORT</c>, or any StackExchange.Redis configuration string.</param>
    /// <param name="logger">Where the changes of availability are logged.</param>
    /// <exception cref="ArgumentException">The configuration string cannot be read.</exception>
    public RedisConnection(string configuration, ILogger logger)
    {
        _logger = logger;
        var options = ConfigurationOptions.Parse(configuration);
        options.BacklogPolicy = BacklogPolicy.FailFast;  // no queueing of commands while disconnected: fail at once
        options.ConnectTimeout = (int)Timeout.TotalMilliseconds;
        options.SyncTimeout = (int)Timeout.TotalMilliseconds;
        options.AsyncTimeout = (int)Timeout.TotalMilliseconds;
        options.ConnectRetry = 1;
        options.ReconnectRetryPolicy = new LinearRetry((int)s_probePeriod.TotalMilliseconds);
        _endpoint = string.Join(",", options.EndPoints.Select(e => e.ToString()));

        // First a connect that returns only once connected (so the first requests already share; a busy machine gets a
        // longer first handshake), else one that returns at once and keeps reconnecting: the replica starts, degraded,
        // while Redis is down. A refused connection fails at once either way.
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = (int)FirstConnectTimeout.TotalMilliseconds;
        try
        {
            Multiplexer = ConnectionMultiplexer.Connect(options);
        }
        catch (RedisConnectionException)
        {
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = (int)Timeout.TotalMilliseconds;
            Multiplexer = ConnectionMultiplexer.Connect(options);
        }

        Multiplexer.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                MarkUnavailable(e.FailureType.ToString());
            }
        };
        Multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                MarkConnected();
            }
        };

        if (Multiplexer.IsConnected)
        {
            MarkConnected();
        }
        else
        {
            lock (_gate)
            {
                if (!_available)
                {
                    RedisStateLog.Lost(_logger, _endpoint, "no connection at start");
                }
            }
        }

        _probe = ProbeAsync();
    }

    /// <summary>Gets the client's multiplexer (shared: the caches and the limiter use this one connection).</summary>
    public IConnectionMultiplexer Multiplexer { get; }

    /// <summary>Gets whether Redis answered last: the stores and the limiter use it; else they fall back to this replica.</summary>
    public bool IsAvailable
    {
        get
        {
            lock (_gate)
            {
                return _available;
            }
        }
    }

    /// <summary>Gets <c>connected</c> or <c>unavailable</c>, as <c>/readyz</c> reports it.</summary>
    public string Status => IsAvailable ? "connected" : "unavailable";

    /// <summary>Gets a token canceled when the current connected period ends (Redis is lost): waits on Redis give up then.</summary>
    public CancellationToken ConnectedToken
    {
        get
        {
            lock (_gate)
            {
                return _connected.Token;
            }
        }
    }

    /// <summary>Marks Redis unavailable after a command failed (a timeout, a refused connection): the probe restores it.</summary>
    public void ReportFailure(Exception error) => MarkUnavailable($"{error.GetType().Name}: {error.Message}");

    private void MarkUnavailable(string reason)
    {
        CancellationTokenSource ended;
        lock (_gate)
        {
            if (!_available)
            {
                return;
            }

            // The next period gets a fresh source now, so no later connection can ever be handed a canceled token; the
            // ended one is canceled, not disposed (a wait may still be linking to its token).
            _available = false;
            ended = _connected;
            _connected = new CancellationTokenSource();
        }

        // Outside the lock: the waits linked to the token resume inline, and they read IsAvailable.
        ended.Cancel();
        RedisStateLog.Lost(_logger, _endpoint, reason);
    }

    private void MarkConnected()
    {
        lock (_gate)
        {
            if (_available)
            {
                return;
            }

            _available = true;
        }

        RedisStateLog.Connected(_logger, _endpoint);
    }

    /// <summary>Each second: a PING decides, so a blip reported by a failed command ends, and a silent loss is found.</summary>
    private async Task ProbeAsync()
    {
        using var timer = new PeriodicTimer(s_probePeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await Multiplexer.GetDatabase().PingAsync().WaitAsync(Timeout, _stop.Token).ConfigureAwait(false);
                    MarkConnected();
                }
                catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
                {
                    MarkUnavailable($"{e.GetType().Name}: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _probe.ConfigureAwait(false);
        await Multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        Multiplexer.Dispose();
        _stop.Dispose();
        _connected.Dispose();
    }
}
