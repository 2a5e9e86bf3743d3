using Microsoft.Extensions.DependencyInjection;

namespace Rlm.Tools.Server.State;

/// <summary>Registers what the replicas of <c>rlm serve</c> share.</summary>
internal static class ServerStateServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ICorpusStore"/> and <see cref="IConversationStore"/> over an <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/>:
    /// Redis when <see cref="ServerStateOptions.RedisConfiguration"/> is set, else this process's memory (one replica, the same code path).
    /// </summary>
    public static IServiceCollection AddRlmServerState(this IServiceCollection services, ServerStateOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        if (options.RedisConfiguration is { } redis)
        {
            services.AddStackExchangeRedisCache(o => o.Configuration = redis);
        }
        else
        {
            services.AddDistributedMemoryCache();
        }

        services.AddSingleton<ICorpusStore, DistributedCorpusStore>();
        services.AddSingleton<IConversationStore, DistributedConversationStore>();
        return services;
    }
}
