using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;

namespace Rlm.Tools.Server.State;

/// <summary>
/// The distributed cache of a replica with Redis: Redis (the <c>RedisCache</c> of Microsoft.Extensions.Caching.StackExchangeRedis)
/// while it answers, this process's memory while it does not, so a query never fails for want of Redis. What is written
/// during an outage stays here and is read first (so a conversation continued here keeps its latest turn), until the next
/// write of the same key reaches Redis again and drops the local copy. Other replicas do not see it meanwhile: no sharing
/// without Redis, as documented.
/// </summary>
/// <remarks>
/// Only the interface's operations are wrapped; there is no way around it (a decorator is the only seam an
/// <see cref="IDistributedCache"/> has), and no package offers a fallback cache for it.
/// </remarks>
internal sealed class FallbackDistributedCache(IDistributedCache redis, IDistributedCache local, RedisConnection connection) : IDistributedCache
{
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        if (await local.GetAsync(key, token).ConfigureAwait(false) is { } written)
        {
            return written;
        }

        return await TryRedisAsync(static (cache, key, _, _, token) => cache.GetAsync(key, token), key, null, null, token).ConfigureAwait(false) is (true, var value)
            ? value
            : null;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        var (stored, _) = await TryRedisAsync(
            static async (cache, key, value, options, token) =>
            {
                await cache.SetAsync(key, value!, options!, token).ConfigureAwait(false);
                return null;
            },
            key, value, options, token).ConfigureAwait(false);
        if (stored)
        {
            await local.RemoveAsync(key, token).ConfigureAwait(false);
        }
        else
        {
            await local.SetAsync(key, value, options, token).ConfigureAwait(false);
        }
    }

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        await local.RefreshAsync(key, token).ConfigureAwait(false);
        await TryRedisAsync(
            static async (cache, key, _, _, token) =>
            {
                await cache.RefreshAsync(key, token).ConfigureAwait(false);
                return null;
            },
            key, null, null, token).ConfigureAwait(false);
    }

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        await local.RemoveAsync(key, token).ConfigureAwait(false);
        await TryRedisAsync(
            static async (cache, key, _, _, token) =>
            {
                await cache.RemoveAsync(key, token).ConfigureAwait(false);
                return null;
            },
            key, null, null, token).ConfigureAwait(false);
    }

    /// <summary>Runs one operation on Redis when it is available; (false, null) when it is not or the operation failed.</summary>
    private async ValueTask<(bool Done, byte[]? Value)> TryRedisAsync(
        Func<IDistributedCache, string, byte[]?, DistributedCacheEntryOptions?, CancellationToken, Task<byte[]?>> operation,
        string key, byte[]? value, DistributedCacheEntryOptions? options, CancellationToken token)
    {
        if (!connection.IsAvailable)
        {
            return (false, null);
        }

        try
        {
            return (true, await operation(redis, key, value, options, token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            connection.ReportFailure(e);
            return (false, null);
        }
    }
}
