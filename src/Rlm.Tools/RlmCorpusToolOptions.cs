using Microsoft.Extensions.AI;

namespace Rlm.Tools;

/// <summary>
/// Options of a corpus tool (<see cref="RecursiveLanguageModel.AsAIFunction(RlmCorpus, RlmCorpusToolOptions)"/>, and the
/// MCP server's <c>query</c>): its name and description, and what it takes from a caller it does not trust: the question's
/// length, the host-wide query limit, and the per-query budgets used when the model's own options set none.
/// </summary>
public sealed class RlmCorpusToolOptions
{
    private int _maxQuestionChars = 100_000;
    private TimeSpan? _defaultMaxWallTime = TimeSpan.FromMinutes(10);
    private long? _defaultMaxTotalTokens = 1_000_000;

    /// <summary>Gets or sets the function's name as the calling model sees it.</summary>
    /// <value>The default value is <c>query_corpus</c>.</value>
    /// <exception cref="ArgumentException">The value is empty, or not 1 to 64 ASCII letters, digits, <c>_</c> and <c>-</c> (the
    /// function names OpenAI's and Anthropic's APIs accept; a provider refuses a whole request that declares another).</exception>
    public string Name
    {
        get;
        set
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(Name));
            if (!IsValidToolName(value))
            {
                throw new ArgumentException($"The tool name '{value}' is not 1 to 64 ASCII letters, digits, '_' and '-' (the names model providers accept), for example query_corpus.", nameof(Name));
            }

            field = value;
        }
    } = "query_corpus";

    /// <summary>Gets or sets the function's description.</summary>
    /// <value>The default value is <see langword="null"/>: a description of the corpus (its documents and size) and of the limits below.</value>
    public string? Description { get; set; }

    /// <summary>Gets or sets the longest question, in characters, a call may ask; a longer one is refused with an <see cref="ArgumentException"/> before any model request.</summary>
    /// <value>The default value is 100,000 characters.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxQuestionChars
    {
        get => _maxQuestionChars;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MaxQuestionChars));
            _maxQuestionChars = value;
        }
    }

    /// <summary>
    /// Gets or sets the wall-time budget of each query (<see cref="RlmOptions.MaxWallTime"/>) when the model's options set none;
    /// <see langword="null"/> leaves such queries without one.
    /// </summary>
    /// <value>The default value is 10 minutes.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan? DefaultMaxWallTime
    {
        get => _defaultMaxWallTime;
        set => _defaultMaxWallTime = value is { } v && v <= TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(DefaultMaxWallTime), value, "DefaultMaxWallTime must be positive.") : value;
    }

    /// <summary>
    /// Gets or sets the token budget of each query (<see cref="RlmOptions.MaxTotalTokens"/>) when the model's options set none;
    /// <see langword="null"/> leaves such queries without one.
    /// </summary>
    /// <value>The default value is 1,000,000 tokens.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public long? DefaultMaxTotalTokens
    {
        get => _defaultMaxTotalTokens;
        set => _defaultMaxTotalTokens = value is < 1 ? throw new ArgumentOutOfRangeException(nameof(DefaultMaxTotalTokens), value, "DefaultMaxTotalTokens must be at least 1.") : value;
    }

    /// <summary>Gets or sets the limit on queries running at once, shared with every tool that uses the same instance.</summary>
    /// <value>The default value is <see cref="RlmQueryLimiter.Shared"/>: one limit for the whole process (4 queries at once, 2 minutes' wait).</value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public RlmQueryLimiter QueryLimiter { get; set => field = value ?? throw new ArgumentNullException(nameof(QueryLimiter)); } = RlmQueryLimiter.Shared;

    /// <summary>
    /// Gets or sets the JSON schema of the answer. When set, each call is a typed query (see
    /// <see cref="RecursiveLanguageModel.QueryAsync{T}(string, string, CancellationToken)"/>): the inner root's <c>final</c>
    /// declares the schema, an answer that is not valid against it (checked with JsonSchema.Net) goes back to the inner
    /// root at most <see cref="RlmOptions.MaxAnswerFormatRetries"/> times, then the call fails with
    /// <see cref="RlmAnswerFormatException"/>. <see cref="RlmToolAnswer.Answer"/> is then the answer's JSON text, and the
    /// function's <see cref="AIFunctionDeclaration.ReturnJsonSchema"/> declares it (<c>contentMediaType</c>
    /// <c>application/json</c>, <c>contentSchema</c> this schema).
    /// </summary>
    /// <value>The default value is <see langword="null"/>: a text answer.</value>
    public System.Text.Json.JsonElement? OutputSchema { get; set; }

    /// <summary>Gets the options a query runs with: <paramref name="options"/> with these default budgets where it sets none.</summary>
    internal RlmOptions ApplyDefaults(RlmOptions options)
    {
        if ((options.MaxWallTime is not null || DefaultMaxWallTime is null) && (options.MaxTotalTokens is not null || DefaultMaxTotalTokens is null))
        {
            return options;
        }

        var copy = options.Clone();
        copy.MaxWallTime ??= DefaultMaxWallTime;
        copy.MaxTotalTokens ??= DefaultMaxTotalTokens;
        return copy;
    }

    /// <summary>The limits as one sentence for a tool description.</summary>
    internal string Describe(RlmOptions runOptions) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"Limits: questions up to {MaxQuestionChars:N0} characters; each query runs at most {(runOptions.MaxWallTime is { } wall ? $"{wall.TotalSeconds:0.###} s" : "without a time limit")} and " +
        $"{(runOptions.MaxTotalTokens is { } tokens ? $"{tokens:N0} tokens" : "without a token limit")}; {QueryLimiter.MaxConcurrentQueries} queries run at once, others wait up to {QueryLimiter.QueueTimeout.TotalSeconds:0.###} s.");

    /// <summary>Whether <paramref name="name"/> is 1 to 64 ASCII letters, digits, <c>_</c> and <c>-</c>.</summary>
    private static bool IsValidToolName(string name) =>
        name.Length is >= 1 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
