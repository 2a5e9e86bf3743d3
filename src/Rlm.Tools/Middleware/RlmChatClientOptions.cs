using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Rlm.Tools;

/// <summary>Options of an <see cref="RlmChatClient"/>: when a request goes through a Recursive Language Model run, and how.</summary>
/// <remarks>
/// A request goes through a run when the caller marks it (<see cref="RlmChatClient.UseRlmPropertyKey"/>) or when its
/// token count, measured with <see cref="Tokenizer"/>, is over <see cref="ThresholdTokens"/>; every other request passes
/// through to the inner client unchanged. The options are copied when the client is created.
/// </remarks>
public sealed class RlmChatClientOptions
{
    /// <summary>The default of <see cref="ThresholdTokens"/>: 100,000 tokens, below a 128K-token window with room for the answer.</summary>
    public const int DefaultThresholdTokens = 100_000;

    /// <summary>The default of <see cref="MinDocumentTokens"/>: 1,000 tokens.</summary>
    public const int DefaultMinDocumentTokens = 1_000;

    /// <summary>The default of <see cref="MaxConversationTokens"/>: 4,000 tokens.</summary>
    public const int DefaultMaxConversationTokens = 4_000;


    private int _thresholdTokens = DefaultThresholdTokens;
    private int _minDocumentTokens = DefaultMinDocumentTokens;
    private int _maxConversationTokens = DefaultMaxConversationTokens;

    /// <summary>
    /// Gets the default tokenizer: OpenAI's <c>o200k_base</c> encoding (GPT-4o, GPT-4.1, o-series), from
    /// <c>Microsoft.ML.Tokenizers.Data.O200kBase</c>. It is created once, on first use, and is safe to share between threads.
    /// </summary>
    public static Tokenizer DefaultTokenizer => Context.TextTokens.Tokenizer;

    /// <summary>
    /// Gets or sets the most tokens a request may have and still pass through to the inner client. A larger request is
    /// answered by a Recursive Language Model run, and every request that run sends to the inner client is kept below it
    /// (see <see cref="RlmOptions"/>).
    /// </summary>
    /// <value>The default value is <see cref="DefaultThresholdTokens"/> (100,000 tokens). Below about 8,000 tokens the root
    /// model's own system prompt and tool declarations (about 2,500 tokens) take a large share of it.</value>
    /// <remarks>A request's tokens are those of its messages' text, text attachments, function calls and results, its
    /// <see cref="ChatOptions.Instructions"/> and its tool declarations, plus 4 tokens a message for the chat format. Images
    /// and other binary contents are not counted. Counting stops as soon as the threshold is crossed, so a request of many
    /// megabytes costs only the first <see cref="ThresholdTokens"/> tokens of work.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1,000.</exception>
    public int ThresholdTokens
    {
        get => _thresholdTokens;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1_000, nameof(ThresholdTokens));
            _thresholdTokens = value;
        }
    }

    /// <summary>
    /// Gets or sets how many tokens a text content (a message's text, a function result) must have to be moved into the
    /// run's context as a document. Smaller texts stay in the query. Text attachments (<see cref="DataContent"/> with a
    /// text media type) are always moved, whatever their size.
    /// </summary>
    /// <value>The default value is <see cref="DefaultMinDocumentTokens"/> (1,000 tokens).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MinDocumentTokens
    {
        get => _minDocumentTokens;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MinDocumentTokens));
            _minDocumentTokens = value;
        }
    }

    /// <summary>
    /// Gets or sets the most tokens of earlier conversation (every message but the last user message, with moved contents
    /// replaced by the name of their document) added to the run's query as context. A longer transcript becomes a
    /// document named <c>conversation.txt</c> instead, and the query refers to it.
    /// </summary>
    /// <value>The default value is <see cref="DefaultMaxConversationTokens"/> (4,000 tokens). 0 always makes a document of it.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 0.</exception>
    public int MaxConversationTokens
    {
        get => _maxConversationTokens;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(MaxConversationTokens));
            _maxConversationTokens = value;
        }
    }

    /// <summary>Gets or sets the tokenizer that counts a request's tokens.</summary>
    /// <value>The default value is <see langword="null"/>: <see cref="DefaultTokenizer"/> (<c>o200k_base</c>).</value>
    public Tokenizer? Tokenizer { get; set; }

    /// <summary>Gets or sets the worker model for the run's sub-calls.</summary>
    /// <value>The default value is <see langword="null"/>: the inner client serves the sub-calls too. The client is not
    /// disposed by the <see cref="RlmChatClient"/>.</value>
    public IChatClient? WorkerClient { get; set; }

    /// <summary>
    /// Gets or sets the options of the runs. They are copied; the copy's <see cref="Rlm.Tools.RlmOptions.MaxConversationChars"/> and
    /// <see cref="Rlm.Tools.RlmOptions.MaxToolOutputChars"/> (and <see cref="Rlm.Tools.RlmOptions.MaxLeafChars"/> when the inner
    /// client also serves the sub-calls) are lowered, if needed, to 2 characters per <see cref="ThresholdTokens"/> token
    /// (a tool output to an eighth of that), so that no request of a run goes over the threshold at the usual 3 to 4
    /// characters a token.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the defaults of <see cref="Rlm.Tools.RlmOptions"/>.</value>
    public RlmOptions? RlmOptions { get; set; }

    /// <summary>
    /// Gets or sets whether a streamed run reports its events (iterations, model responses, tool calls, sub-calls, retries,
    /// budget warnings) as updates before the answer: each has no contents (so <c>ToChatResponseAsync()</c> never turns
    /// progress into message text) and carries the <see cref="RlmEvent"/> itself as
    /// <see cref="ChatResponseUpdate.RawRepresentation"/> and under <see cref="RlmChatClient.EventPropertyKey"/> in
    /// <see cref="ChatResponseUpdate.AdditionalProperties"/>; <see cref="RlmEvent.Describe"/> gives its one line of text.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool StreamProgress { get; set; } = true;

    internal RlmChatClientOptions Clone() => new()
    {
        _thresholdTokens = _thresholdTokens,
        _minDocumentTokens = _minDocumentTokens,
        _maxConversationTokens = _maxConversationTokens,
        Tokenizer = Tokenizer,
        WorkerClient = WorkerClient,
        RlmOptions = RlmOptions?.Clone(),
        StreamProgress = StreamProgress,
    };
}
