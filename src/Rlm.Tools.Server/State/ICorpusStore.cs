namespace Rlm.Tools.Server.State;

/// <summary>A corpus as the API lists it.</summary>
/// <param name="Id">The corpus id (<see cref="ICorpusStore.DefaultId"/> for the corpus loaded at start).</param>
/// <param name="Documents">The documents' names and lengths in characters, in order.</param>
/// <param name="Characters">The characters of all documents' text.</param>
internal sealed record CorpusInfo(string Id, IReadOnlyList<CorpusDocumentInfo> Documents, long Characters);

/// <summary>One document of a corpus as the API lists it.</summary>
/// <param name="Name">The document's name.</param>
/// <param name="Characters">Its length in characters.</param>
internal sealed record CorpusDocumentInfo(string Name, int Characters);

/// <summary>
/// The corpora a server answers over: the one loaded at start (<see cref="DefaultId"/>) and uploaded ones, shared by every
/// replica through the distributed cache.
/// </summary>
internal interface ICorpusStore
{
    /// <summary>The id of the corpus loaded at start.</summary>
    const string DefaultId = "default";

    /// <summary>Sets the corpus loaded at start (each replica loads its own copy).</summary>
    void SetDefault(RlmCorpus corpus);

    /// <summary>Stores an uploaded corpus and returns what it holds, with its new id.</summary>
    /// <exception cref="CorpusTooLargeException">The documents hold more than <see cref="ServerStateOptions.MaxCorpusChars"/> characters.</exception>
    /// <exception cref="ArgumentException">A document has no name, or two share one.</exception>
    Task<CorpusInfo> AddAsync(IReadOnlyList<RlmDocument> documents, CancellationToken cancellationToken);

    /// <summary>Gets a corpus prepared for queries, or <see langword="null"/> when the id is unknown (or expired).</summary>
    Task<RlmCorpus?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Gets what a corpus holds, or <see langword="null"/> when the id is unknown (or expired).</summary>
    Task<CorpusInfo?> GetInfoAsync(string id, CancellationToken cancellationToken);
}

/// <summary>An uploaded corpus is larger than <see cref="ServerStateOptions.MaxCorpusChars"/>.</summary>
internal sealed class CorpusTooLargeException(long characters, long limit)
    : Exception($"the corpus has {characters:N0} characters, more than the limit of {limit:N0}")
{
    public long Characters { get; } = characters;

    public long Limit { get; } = limit;
}
