namespace Rlm.Tools;

/// <summary>The named workers of <see cref="RlmOptions"/> (kept apart: one concern, one file).</summary>
public sealed partial class RlmOptions
{
    private List<RlmWorker> _workers = [];

    /// <summary>
    /// Gets or sets named worker models a sub-call may be routed to: <c>sub_llm</c> and JavaScript's <c>llm_query</c> take
    /// an optional <c>model</c> naming one, declared to the model as an enum of the names with their descriptions. A
    /// sub-call without <c>model</c> goes to the default worker (the worker client with <see cref="WorkerModelId"/>), as
    /// without workers; a recursive sub-call (below <see cref="MaxDepth"/>) runs its whole session on the worker it names.
    /// An unknown name is an error result listing the names.
    /// </summary>
    /// <value>
    /// The default value is an empty list: no <c>model</c> argument is declared. Names must be unique (ordinal); checked
    /// when a <see cref="RecursiveLanguageModel"/> is created.
    /// </value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public IList<RlmWorker> Workers { get => _workers; set => _workers = [.. value ?? throw new ArgumentNullException(nameof(Workers))]; }
}
