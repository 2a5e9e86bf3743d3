using System.Threading.RateLimiting;
using Microsoft.Extensions.Caching.Hybrid;

namespace Rlm.Tools.Server.State;

/// <summary>
/// What the engine's options take from the replica's shared state: the sub-call cache (<see cref="RlmOptions.SubCallCache"/>)
/// and the provider limit (<see cref="RlmOptions.ConcurrencyLimiter"/>), and Redis's status for <c>/readyz</c>.
/// </summary>
internal sealed class ServerSharedState(HybridCache subCallCache, ProviderConcurrencyLimiter? providerLimiter = null, RedisConnection? redis = null) : IAsyncDisposable, IDisposable
{
    /// <summary>Gets the cache of sub-call answers: Redis behind this process's memory with Redis, else memory alone.</summary>
    public HybridCache SubCallCache { get; } = subCallCache;

    /// <summary>Gets the limiter of model requests in flight (<c>--provider-concurrency</c>), or <see langword="null"/> when none is set.</summary>
    public RateLimiter? ProviderLimiter { get; } = providerLimiter;

    /// <summary>Gets <c>connected</c> or <c>unavailable</c> with Redis, <c>not_configured</c> without.</summary>
    public string RedisStatus => redis?.Status ?? "not_configured";

    /// <summary>Gets whether Redis is configured and not answering: the replica serves, without sharing (<c>/readyz</c> says <c>degraded</c>).</summary>
    public bool IsDegraded => redis is { IsAvailable: false };

    /// <summary>Sets <paramref name="options"/>' sub-call cache and, when a provider limit is set, its concurrency limiter.</summary>
    public RlmOptions ApplyTo(RlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.SubCallCache = SubCallCache;
        if (ProviderLimiter is not null)
        {
            options.ConcurrencyLimiter = ProviderLimiter;
        }

        return options;
    }

    /// <summary>Disposes the provider limiter (owned); the cache and the connection belong to the container.</summary>
    public void Dispose() => ProviderLimiter?.Dispose();

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (ProviderLimiter is not null)
        {
            await ProviderLimiter.DisposeAsync().ConfigureAwait(false);
        }
    }
}
