using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;

namespace Rlm.Tools.Server.State;

/// <summary>Conversations kept as JSON in the distributed cache (Redis when replicas share one, else memory).</summary>
internal sealed class DistributedConversationStore(IDistributedCache cache, ServerStateOptions options) : IConversationStore
{
    private const string KeyPrefix = "rlm:conversation:";

    public async Task<StoredConversation?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
        {
            return null;
        }

        byte[]? bytes = await cache.GetAsync(KeyPrefix + id, cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : JsonSerializer.Deserialize<StoredConversation>(bytes, StateJson.Options);
    }

    public Task SaveAsync(string id, StoredConversation conversation, CancellationToken cancellationToken) =>
        cache.SetAsync(KeyPrefix + id, JsonSerializer.SerializeToUtf8Bytes(conversation, StateJson.Options),
            new DistributedCacheEntryOptions { SlidingExpiration = options.EntryLifetime }, cancellationToken);

    public string NewId() => Guid.NewGuid().ToString("N");
}
