namespace Rlm.Tools.Server;

/// <summary>The corpora a query may name: <c>default</c>, the one loaded at start, and the uploaded ones.</summary>
internal sealed class ServedCorpora(RlmServerOptions options)
{
    /// <summary>The fixed id of the corpus loaded at start.</summary>
    public const string DefaultId = "default";

    /// <summary>Gets the corpus <paramref name="id"/> names, or <see langword="null"/> when there is none.</summary>
    public ValueTask<RlmCorpus?> GetAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(id == DefaultId ? options.DefaultCorpus : null);
    }
}
