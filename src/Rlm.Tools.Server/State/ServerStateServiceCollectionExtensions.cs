using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Rlm.Tools.Server.State;

/// <summary>Registers what the replicas of <c>rlm serve</c> share.</summary>
internal static class ServerStateServiceCollectionExtensions
{
    // What a replica writes while Redis is away stays in its memory, bounded (the memory cache refuses entries past it).
    private const long OutageMemoryBytes = 1L << 30;

    /// <summary>
    /// Registers <see cref="ICorpusStore"/> and <see cref="IConversationStore"/> over an <see cref="IDistributedCache"/>:
    /// Redis when <see cref="ServerStateOptions.RedisConfiguration"/> is set (falling back to this process's memory while
    /// Redis does not answer), else this process's memory (one replica, the same code path); a <see cref="HybridCache"/>
    /// over that cache for sub-call answers; and <see cref="ServerSharedState"/>, which hands the cache and the provider
    /// limit (<see cref="ServerStateOptions.ProviderConcurrency"/>) to the engine's options and tells Redis's status.
    /// </summary>
    public static IServiceCollection AddRlmServerState(this IServiceCollection services, ServerStateOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        if (options.RedisConfiguration is { } redis)
        {
            services.AddSingleton(sp => new RedisConnection(redis, Logger(sp)));
            services.AddSingleton<IDistributedCache>(sp =>
            {
                var connection = sp.GetRequiredService<RedisConnection>();
                var redisCache = new RedisCache(Options.Create(new RedisCacheOptions
                {
                    ConnectionMultiplexerFactory = () => Task.FromResult(connection.Multiplexer),
                }));
                var local = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions { SizeLimit = OutageMemoryBytes }));
                return new FallbackDistributedCache(redisCache, local, connection);
            });
        }
        else
        {
            services.AddDistributedMemoryCache();
        }

        // The sub-call memo: this process's memory in front of the distributed cache above (Redis when configured).
        services.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = options.EntryLifetime,
            LocalCacheExpiration = options.EntryLifetime < TimeSpan.FromMinutes(10) ? options.EntryLifetime : TimeSpan.FromMinutes(10),
        });
        services.AddSingleton(sp =>
        {
            var connection = options.RedisConfiguration is null ? null : sp.GetRequiredService<RedisConnection>();
            var limiter = options.ProviderConcurrency is int n ? new ProviderConcurrencyLimiter(n, connection) : null;
            return new ServerSharedState(sp.GetRequiredService<HybridCache>(), limiter, connection);
        });

        services.AddSingleton<ICorpusStore, DistributedCorpusStore>();
        services.AddSingleton<IConversationStore, DistributedConversationStore>();
        return services;
    }

    private static ILogger Logger(IServiceProvider services) =>
        (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger("Rlm.Tools.Server.State");
}
