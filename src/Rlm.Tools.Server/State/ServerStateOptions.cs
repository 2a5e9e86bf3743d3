namespace Rlm.Tools.Server.State;

/// <summary>What the replicas of <c>rlm serve</c> share, and the bounds on it.</summary>
internal sealed class ServerStateOptions
{
    /// <summary>
    /// Gets or sets the Redis server (<c>HOST:PORT</c>, or any StackExchange.Redis configuration string) that replicas share;
    /// <see langword="null"/> (default) keeps the state in this process's memory: one replica, the same code path.
    /// </summary>
    public string? RedisConfiguration { get; set; }

    /// <summary>
    /// Gets or sets the most model requests in flight across all replicas (<c>--provider-concurrency</c>);
    /// <see langword="null"/> (default) leaves the limit to each query's own options.
    /// </summary>
    public int? ProviderConcurrency { get; set; }

    /// <summary>Gets or sets the most characters of one uploaded corpus (all its documents' text). Default 20,000,000.</summary>
    public long MaxCorpusChars { get; set; } = 20_000_000;

    /// <summary>
    /// Gets or sets how long an uploaded corpus or a conversation is kept after it was last used (sliding). Default 24 hours.
    /// </summary>
    public TimeSpan EntryLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets the most characters of prepared corpora this replica keeps in memory (least recently used go first). Default 200,000,000.</summary>
    public long LocalCorpusCacheChars { get; set; } = 200_000_000;
}
