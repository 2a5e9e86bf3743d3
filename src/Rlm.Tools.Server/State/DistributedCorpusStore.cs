using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;

namespace Rlm.Tools.Server.State;

/// <summary>
/// Uploaded corpora kept as JSON in the distributed cache (Redis when replicas share one, else memory), each replica also
/// keeping the corpora it prepared (indexing a corpus costs more than reading it) in a memory cache bounded in characters.
/// </summary>
internal sealed class DistributedCorpusStore(IDistributedCache cache, ServerStateOptions options) : ICorpusStore, IDisposable
{
    private const string KeyPrefix = "rlm:corpus:";

    private readonly MemoryCache _prepared = new(new MemoryCacheOptions { SizeLimit = Math.Max(1, options.LocalCorpusCacheChars) });
    private RlmCorpus? _default;

    public void SetDefault(RlmCorpus corpus) => _default = corpus;

    public async Task<CorpusInfo> AddAsync(IReadOnlyList<RlmDocument> documents, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(documents);
        if (documents.Count == 0)
        {
            throw new ArgumentException("a corpus needs at least one document");
        }

        long characters = documents.Sum(d => (long)d.Text.Length);
        if (characters > options.MaxCorpusChars)
        {
            throw new CorpusTooLargeException(characters, options.MaxCorpusChars);
        }

        var duplicate = documents.GroupBy(d => d.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"two documents are named '{duplicate.Key}'");
        }

        var corpus = RlmCorpus.FromDocuments(documents); // throws for a corpus past RlmCorpus.MaxLength
        string id = Guid.NewGuid().ToString("N");
        var stored = new StateJson.StoredCorpus([.. documents.Select(d => new StateJson.StoredDocument(d.Name, d.Text))]);
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(stored, StateJson.Options);
        await cache.SetAsync(KeyPrefix + id, bytes, new DistributedCacheEntryOptions { SlidingExpiration = options.EntryLifetime }, cancellationToken).ConfigureAwait(false);
        Remember(id, corpus);
        return Describe(id, corpus);
    }

    public async Task<RlmCorpus?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (id == ICorpusStore.DefaultId)
        {
            return _default;
        }

        if (!IsWellFormed(id))
        {
            return null;
        }

        if (_prepared.TryGetValue(id, out RlmCorpus? known) && known is not null)
        {
            await cache.RefreshAsync(KeyPrefix + id, cancellationToken).ConfigureAwait(false);
            return known;
        }

        byte[]? bytes = await cache.GetAsync(KeyPrefix + id, cancellationToken).ConfigureAwait(false);
        if (bytes is null || JsonSerializer.Deserialize<StateJson.StoredCorpus>(bytes, StateJson.Options) is not { Documents.Count: > 0 } stored)
        {
            return null;
        }

        var corpus = RlmCorpus.FromDocuments([.. stored.Documents.Select(d => new RlmDocument(d.Name, d.Text))]);
        Remember(id, corpus);
        return corpus;
    }

    public async Task<CorpusInfo?> GetInfoAsync(string id, CancellationToken cancellationToken) =>
        await GetAsync(id, cancellationToken).ConfigureAwait(false) is { } corpus ? Describe(id, corpus) : null;

    public void Dispose() => _prepared.Dispose();

    private void Remember(string id, RlmCorpus corpus) =>
        _prepared.Set(id, corpus, new MemoryCacheEntryOptions { Size = Math.Max(1, corpus.Length), SlidingExpiration = options.EntryLifetime });

    private static CorpusInfo Describe(string id, RlmCorpus corpus) =>
        new(id, [.. corpus.Documents.Select(d => new CorpusDocumentInfo(d.Name, d.Text.Length))], corpus.Documents.Sum(d => (long)d.Text.Length));

    /// <summary>Ids are 32 hex digits (<see cref="Guid"/> "N"); anything else is unknown without a cache round trip.</summary>
    private static bool IsWellFormed(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);
}
