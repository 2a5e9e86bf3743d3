namespace Rlm.Tools;

// The options about what reaches a worker and what the root's answer must be: sub-calls that fit a worker's context
// window, typed answers, and verified citations.
public sealed partial class RlmOptions
{
    /// <summary>
    /// Gets or sets the context window in tokens of each model, by model id (looked up as
    /// <see cref="RlmModelContextWindows.Find"/> does: exactly, then by prefix, then after a <c>/</c>). Before a leaf sub-call
    /// (<c>sub_llm</c> at the maximum depth, JavaScript's <c>llm_query</c>) is sent to the worker, its prompt is counted with
    /// the <c>o200k_base</c> tokenizer; a prompt over the worker's window less <see cref="SubCallOutputReserveTokens"/> is
    /// never sent, and the calling model gets a tool error with the token count, the window and the largest slice that fits.
    /// The worker's id is <see cref="WorkerModelId"/>, else the worker client's <c>ChatClientMetadata.DefaultModelId</c>;
    /// a model not in the dictionary (or no id at all) is not checked.
    /// </summary>
    /// <value>The default value is a new case-insensitive dictionary of <see cref="RlmModelContextWindows.CreateDefaults"/>
    /// (dated figures for common OpenAI, Anthropic and Google models). Windows must be at least 1 token (checked when a
    /// <see cref="RecursiveLanguageModel"/> is created).</value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public IDictionary<string, int> ModelContextWindows
    {
        get => _modelContextWindows;
        set => _modelContextWindows = new Dictionary<string, int>(value ?? throw new ArgumentNullException(nameof(ModelContextWindows)), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Gets or sets the tokens of a worker's context window kept free for its answer: a sub-call prompt may use at most the
    /// window (<see cref="ModelContextWindows"/>) less this many tokens.
    /// </summary>
    /// <value>The default value is 4,096 tokens.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 0.</exception>
    public int SubCallOutputReserveTokens
    {
        get => _subCallOutputReserveTokens;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(SubCallOutputReserveTokens));
            _subCallOutputReserveTokens = value;
        }
    }

    /// <summary>
    /// Gets or sets how many times per run a final answer of a typed query
    /// (<see cref="RecursiveLanguageModel.QueryAsync{T}(string, string, CancellationToken)"/>) that does not match its
    /// schema goes back to the root model as a tool error with the reason; the next such answer ends the run and the
    /// query throws <see cref="RlmAnswerFormatException"/>. Counted in <see cref="RlmStatistics.AnswerFormatRetries"/>.
    /// </summary>
    /// <value>The default value is 2; 0 to 10.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 0 or greater than 10.</exception>
    public int MaxAnswerFormatRetries { get => _maxAnswerFormatRetries; set => _maxAnswerFormatRetries = InRange(value, 0, 10); }

    private int _maxAnswerFormatRetries = 2;

    /// <summary>
    /// Gets or sets what the host does with the citations of a final answer (<c>document:line</c> or <c>(line N)</c>, optionally
    /// followed by a quoted span): <see cref="RlmCitationPolicy.Off"/>, <see cref="RlmCitationPolicy.Report"/> (checked against
    /// the context and reported in <see cref="RlmResult.Citations"/>) or <see cref="RlmCitationPolicy.Repair"/>.
    /// </summary>
    /// <value>The default value is <see cref="RlmCitationPolicy.Report"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="RlmCitationPolicy"/>.</exception>
    public RlmCitationPolicy CitationPolicy
    {
        get;
        set => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(CitationPolicy), value, "CitationPolicy must be Off, Report or Repair.");
    } = RlmCitationPolicy.Report;
}
