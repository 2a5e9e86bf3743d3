using System.Threading.RateLimiting;

namespace Rlm.Tools;

/// <summary>
/// Options of a <see cref="RecursiveLanguageModel"/>. Every limit has a validated default; no value ≤ 0 means "unlimited".
/// </summary>
/// <remarks>
/// <para><b>Depth.</b> The root session runs at depth 0. A <c>sub_llm</c> or <c>llm_query</c> made by a session at depth
/// <c>d</c> runs at depth <c>d + 1</c>. A sub-call whose depth is below <see cref="MaxDepth"/> is a full session with the
/// tools (recursive); a sub-call at depth <see cref="MaxDepth"/> is a leaf: one plain completion over its slice, no tools.
/// The host enforces this; nothing the model or JavaScript does can change it. <see cref="MaxDepth"/> = 1 is the paper's
/// setting (arXiv 2512.24601, §3: sub-calls are plain language-model calls).</para>
/// </remarks>
public sealed partial class RlmOptions
{
    private int _maxIterations = 30;
    private int _maxDepth = 1;
    private int _maxConcurrency = 8;
    private int _maxSubCalls = 100;
    private int _maxToolOutputChars = 20_000;
    private int _maxLeafChars = 400_000;
    private int _maxConversationChars = 400_000;
    private int _compactionTargetPercent = 50;
    private TimeSpan _regexTimeout = TimeSpan.FromSeconds(2);
    private TimeSpan _javaScriptTimeout = TimeSpan.FromSeconds(10);
    private int _javaScriptMaxStatements = 50_000_000;
    private int _javaScriptMaxRecursionDepth = 256;
    private long _javaScriptMemoryLimitBytes = 512L * 1024 * 1024;
    private TimeSpan _modelRequestTimeout = TimeSpan.FromSeconds(120);
    private int _maxModelRetries = 4;
    private TimeSpan _modelRetryBaseDelay = TimeSpan.FromSeconds(1);
    private TimeSpan _modelRetryMaxDelay = TimeSpan.FromSeconds(30);
    private List<string> _redactedValues = [];
    private List<Microsoft.Extensions.AI.AITool> _tools = [];
    private long? _maxTotalTokens;
    private decimal? _maxCostUsd;
    private TimeSpan? _maxWallTime;
    private int _maxConsecutiveErrors = 10;
    private int _maxFunctionCallsPerReply = 32;
    private int _maxTraceNodes = 10_000;
    private Dictionary<string, int> _modelContextWindows = RlmModelContextWindows.CreateDefaults();
    private int _subCallOutputReserveTokens = 4_096;

    /// <summary>Gets or sets the most model turns one session (root or recursive worker) may take before it must answer.</summary>
    /// <value>The default value is 30. After the last iteration, one more call without tools asks for the answer.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxIterations { get => _maxIterations; set => _maxIterations = Positive(value); }

    /// <summary>Gets or sets the maximum sub-call depth; the root is depth 0 and sub-calls at this depth are leaf completions.</summary>
    /// <value>The default value is 1 (the paper's setting).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or greater than 8.</exception>
    public int MaxDepth { get => _maxDepth; set => _maxDepth = InRange(value, 1, 8); }

    /// <summary>Gets or sets how many model requests (at any depth) may be in flight at once.</summary>
    /// <value>The default value is 8.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxConcurrency { get => _maxConcurrency; set => _maxConcurrency = Positive(value); }

    /// <summary>Gets or sets the most sub-calls (<c>sub_llm</c>, <c>llm_query</c>, each prompt of <c>llm_query_batched</c>) of one run, at all depths together; a sub-call answered from memory (<see cref="MemoizeSubCalls"/>) uses one too.</summary>
    /// <value>The default value is 100. A sub-call is reserved before it is dispatched, so parallel calls never overshoot.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxSubCalls { get => _maxSubCalls; set => _maxSubCalls = Positive(value); }

    /// <summary>Gets or sets the most characters of one tool result the model sees; longer results keep their head and tail with the omitted count between.</summary>
    /// <value>The default value is 20,000 characters.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 200.</exception>
    public int MaxToolOutputChars
    {
        get => _maxToolOutputChars;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 200, nameof(MaxToolOutputChars));
            _maxToolOutputChars = value;
        }
    }

    /// <summary>Gets or sets the most characters of context one leaf completion may receive; a larger slice is an error telling the model to split it.</summary>
    /// <value>The default value is 400,000 characters (about 100,000 tokens at 4 characters a token).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxLeafChars { get => _maxLeafChars; set => _maxLeafChars = Positive(value); }

    /// <summary>
    /// Gets or sets the most characters a session's conversation (prompts, replies, call arguments and tool results) may
    /// hold when it is sent. Past it, the conversation is compacted in one step down to
    /// <see cref="CompactionTargetPercent"/> of this size: the oldest iterations are summarized by the session's model
    /// (<see cref="CompactConversations"/>), or, when that is off or the summary request fails, the oldest tool results are
    /// replaced by a note of their length. The system prompt, the task and the latest iteration are always kept whole, and a
    /// function call is never separated from its result.
    /// </summary>
    /// <value>The default value is 400,000 characters (about 100,000 tokens at 4 characters a token).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1,000.</exception>
    public int MaxConversationChars
    {
        get => _maxConversationChars;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1_000, nameof(MaxConversationChars));
            _maxConversationChars = value;
        }
    }

    /// <summary>
    /// Gets or sets whether a conversation past <see cref="MaxConversationChars"/> is compacted by a summary: one request
    /// to the session's own model (counted in usage, cost and budgets, retried like any request) summarizes the oldest
    /// iterations, and the full transcript stays readable by the model in the variable <c>history</c>. When
    /// <see langword="false"/>, or when the summary request fails, the oldest tool results are cut to a note of their length
    /// instead.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CompactConversations { get; set; } = true;

    /// <summary>
    /// Gets or sets the size, in percent of <see cref="MaxConversationChars"/>, a compaction brings the conversation down
    /// to. Compaction rewrites the conversation rarely and in one step, so the requests after it extend one unchanged
    /// prefix again (providers bill a cached prefix at a fraction of the input price).
    /// </summary>
    /// <value>The default value is 50 (percent).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 10 or more than 90.</exception>
    public int CompactionTargetPercent { get => _compactionTargetPercent; set => _compactionTargetPercent = InRange(value, 10, 90); }

    /// <summary>
    /// Gets or sets whether identical sub-calls of one run (same worker model, depth, query text and context slice) are
    /// answered once: concurrent identical calls wait for the first, later ones reuse its answer. A memoized call sends no
    /// request but still uses one sub-call of <see cref="MaxSubCalls"/> (so a loop of identical calls ends at the budget), and
    /// is counted in <see cref="RlmStatistics.MemoizedSubCalls"/>. A failed
    /// sub-call is not remembered: the next identical call runs again. <see cref="SubCallCache"/> shares answers beyond the run.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool MemoizeSubCalls { get; set; } = true;

    /// <summary>Gets or sets how long one regular-expression search (<c>grep</c>) may run before it is stopped as too slow.</summary>
    /// <value>The default value is 2 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan RegexTimeout { get => _regexTimeout; set => _regexTimeout = Positive(value); }

    /// <summary>Gets or sets the script time one <c>exec_js</c> call may run. Time spent waiting on a model for <c>llm_query</c> and <c>llm_query_batched</c> does not count (those waits are bounded by <see cref="MaxSubCalls"/> and the caller's cancellation); a call answered at once (from memory, or refused because the budget is spent) counts like any other script time.</summary>
    /// <value>The default value is 10 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan JavaScriptTimeout { get => _javaScriptTimeout; set => _javaScriptTimeout = Positive(value); }

    /// <summary>Gets or sets how many JavaScript statements one <c>exec_js</c> call may execute.</summary>
    /// <value>The default value is 50,000,000.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int JavaScriptMaxStatements { get => _javaScriptMaxStatements; set => _javaScriptMaxStatements = Positive(value); }

    /// <summary>Gets or sets the deepest JavaScript call stack an <c>exec_js</c> call may build.</summary>
    /// <value>The default value is 256 frames.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int JavaScriptMaxRecursionDepth { get => _javaScriptMaxRecursionDepth; set => _javaScriptMaxRecursionDepth = Positive(value); }

    /// <summary>Gets or sets how many bytes of heap a session's JavaScript may keep: what <c>exec_js</c> calls keep in globals adds up across calls (live heap growth since the session's engine started, measured after a full collection; the session's copy of the context is not counted).</summary>
    /// <value>The default value is 512 MiB (536,870,912 bytes).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 MiB.</exception>
    public long JavaScriptMemoryLimitBytes
    {
        get => _javaScriptMemoryLimitBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1024L * 1024, nameof(JavaScriptMemoryLimitBytes));
            _javaScriptMemoryLimitBytes = value;
        }
    }

    /// <summary>
    /// Gets or sets how long one attempt of one model request may be in flight (the wait for a free slot is not counted).
    /// Past it the attempt is abandoned, even if the client ignores cancellation, and counts as a transient failure.
    /// </summary>
    /// <value>The default value is 120 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 10 milliseconds or more than 1 day (the range of Polly's timeout strategy).</exception>
    public TimeSpan ModelRequestTimeout { get => _modelRequestTimeout; set => _modelRequestTimeout = InRange(value, TimeSpan.FromMilliseconds(10), TimeSpan.FromDays(1)); }

    /// <summary>
    /// Gets or sets whether the root model's replies are streamed (<see cref="Microsoft.Extensions.AI.IChatClient.GetStreamingResponseAsync"/>) so that
    /// each function call starts as soon as it is complete in the stream, while the rest of the reply is still arriving,
    /// instead of after the whole reply. Results still go back to the model in call order, and the assembled reply (its
    /// messages and usage) is the one <c>ToChatResponse()</c> (Microsoft.Extensions.AI)
    /// builds from the updates. A client that does not stream calls incrementally (it sends them all at the end) behaves
    /// as before; a client whose streaming method throws <see cref="NotSupportedException"/> or
    /// <see cref="NotImplementedException"/> before its first update, or whose stream ends without a single update, is asked with
    /// <see cref="Microsoft.Extensions.AI.IChatClient.GetResponseAsync"/> instead, for the rest of the run. Worker sessions, leaf sub-calls and the
    /// last call without tools are never streamed.
    /// </summary>
    /// <remarks>
    /// Retries: while no call of a reply has started, a failed stream is retried like any request
    /// (<see cref="MaxModelRetries"/>). Once a call has started the reply is committed and is not asked again (that would
    /// run its tools twice, or run tools of a reply the model never finished): if the stream then fails or times out, the
    /// reply is cut after its last complete call, those calls run, and the model is told that the rest of its reply was lost.
    /// </remarks>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool StreamRootResponses { get; set; } = true;

    /// <summary>
    /// Gets or sets how many times a model request is retried after a transient failure: a timeout, HTTP 408, 409, 425,
    /// 429 or 5xx, a connection failure or reset, or a 200 response that cannot be used (malformed or truncated JSON, no
    /// choices, no text and no function calls). Other HTTP 4xx responses (a bad key, an unknown model) are not retried.
    /// </summary>
    /// <value>The default value is 4 (so at most 5 attempts). 0 turns retries off.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 0 or greater than 20.</exception>
    public int MaxModelRetries { get => _maxModelRetries; set => _maxModelRetries = InRange(value, 0, 20); }

    /// <summary>
    /// Gets or sets the median wait before the first retry. Later waits double (exponential back-off with jitter: Polly 8's
    /// <c>DelayBackoffType.Exponential</c> with <c>UseJitter</c>, the decorrelated-jitter algorithm). A <c>Retry-After</c>
    /// (seconds or HTTP date) or <c>retry-after-ms</c> header on the failed response replaces the computed wait.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive or is more than 1 day.</exception>
    public TimeSpan ModelRetryBaseDelay { get => _modelRetryBaseDelay; set => _modelRetryBaseDelay = InRange(value, TimeSpan.FromTicks(1), TimeSpan.FromDays(1)); }

    /// <summary>Gets or sets the longest single wait between two attempts, a provider's <c>Retry-After</c> included.</summary>
    /// <value>The default value is 30 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive or is more than 1 day.</exception>
    public TimeSpan ModelRetryMaxDelay { get => _modelRetryMaxDelay; set => _modelRetryMaxDelay = InRange(value, TimeSpan.FromTicks(1), TimeSpan.FromDays(1)); }

    /// <summary>
    /// Gets or sets a limiter shared by every query and every <see cref="RecursiveLanguageModel"/> of a host, so that the
    /// host as a whole never has more model requests in flight than it allows. Each attempt of each model request holds one
    /// permit while it is in flight (not while it waits for a retry or for its sub-calls). <see cref="MaxConcurrency"/>
    /// still bounds each run on its own.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: only the per-run <see cref="MaxConcurrency"/> applies. Typically a
    /// <see cref="System.Threading.RateLimiting.ConcurrencyLimiter"/> with <c>PermitLimit</c> = the host's budget and a
    /// <c>QueueLimit</c> large enough for every waiting request (a refused permit counts as a transient failure, retried).
    /// The limiter is shared, not owned: the caller disposes it.
    /// </value>
    public RateLimiter? ConcurrencyLimiter { get; set; }

    /// <summary>
    /// Gets or sets secrets (for example the API key) that must never leave the host: they are removed, with the built-in
    /// patterns of <see cref="SecretRedactor"/>, from every provider error before it reaches an exception, a span, the
    /// trajectory, a progress event or a prompt.
    /// </summary>
    /// <value>The default value is an empty list. Values shorter than 4 characters are ignored.</value>
    public IList<string> RedactedValues { get => _redactedValues; set => _redactedValues = [.. value ?? throw new ArgumentNullException(nameof(RedactedValues))]; }

    /// <summary>
    /// Gets or sets the most tokens (input plus output, every model call at every depth) a run may use. Checked before
    /// every model request as it is dispatched, with every completed request's usage counted before its slot is freed: when
    /// it is reached, no request is sent any more, so a run exceeds it by at most what the requests in flight at that moment
    /// use (at most <see cref="MaxConcurrency"/> requests, the one whose usage reached it included). Sub-calls inherit what
    /// remains: the budget is the run's, at every depth.
    /// The root stops taking tool iterations at 90% and answers with one last tool-less call when the rest fits; the run
    /// then stops with <see cref="RlmStopReason.TokenBudget"/>. Several sub-calls asked for at once whose estimate is over what
    /// remains are refused whole, unsent (<see cref="RlmSubCallBatchRefused"/>).
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no limit.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public long? MaxTotalTokens { get => _maxTotalTokens; set => _maxTotalTokens = value is < 1 ? throw new ArgumentOutOfRangeException(nameof(MaxTotalTokens), value, "MaxTotalTokens must be at least 1.") : value; }

    /// <summary>
    /// Gets or sets the most a run may cost in US dollars, priced by <see cref="Prices"/> per model. Enforced like
    /// <see cref="MaxTotalTokens"/> (same bound; <see cref="RlmStopReason.CostBudget"/>). A model without a price counts as
    /// free for this check, and <see cref="RlmResult.CostUsd"/> is then <see langword="null"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no limit.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public decimal? MaxCostUsd { get => _maxCostUsd; set => _maxCostUsd = value is <= 0 ? throw new ArgumentOutOfRangeException(nameof(MaxCostUsd), value, "MaxCostUsd must be positive.") : value; }

    /// <summary>
    /// Gets or sets the longest a run may take. When it is reached no model request is sent any more and requests in
    /// flight are left to finish; the run stops with <see cref="RlmStopReason.TimeBudget"/> and the best answer so far.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no limit.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan? MaxWallTime { get => _maxWallTime; set => _maxWallTime = value is { } v && v <= TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(MaxWallTime), value, "MaxWallTime must be positive.") : value; }

    /// <summary>
    /// Gets or sets how many iterations in a row of one session may end with every tool call an error. The root then
    /// answers with one last tool-less call and the run stops with <see cref="RlmStopReason.ErrorLimit"/>; a recursive
    /// session returns its last answer to its parent.
    /// </summary>
    /// <value>The default value is 10.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxConsecutiveErrors { get => _maxConsecutiveErrors; set => _maxConsecutiveErrors = Positive(value); }

    /// <summary>
    /// Gets or sets the most function calls of one model reply that run. A reply is untrusted output: the calls after the
    /// first this many (in the order they arrive) are not run; each gets one error result telling the model the cap, so
    /// every call still has its result, and they are counted in <see cref="RlmStatistics.RefusedFunctionCalls"/>. Applies
    /// to streamed and non-streamed replies, built-in and custom tools alike.
    /// </summary>
    /// <value>The default value is 32.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or greater than 10,000.</exception>
    public int MaxFunctionCallsPerReply { get => _maxFunctionCallsPerReply; set => _maxFunctionCallsPerReply = InRange(value, 1, 10_000); }

    /// <summary>
    /// Gets or sets the most nodes the run's trajectory (<see cref="RlmResult.Trajectory"/>) keeps. Past it, further steps
    /// still run, emit their events and count in the statistics, but their nodes are not stored; how many were left out
    /// is <see cref="RlmStatistics.DroppedTraceNodes"/>.
    /// </summary>
    /// <value>The default value is 10,000 nodes.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 100.</exception>
    public int MaxTraceNodes
    {
        get => _maxTraceNodes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 100, nameof(MaxTraceNodes));
            _maxTraceNodes = value;
        }
    }

    /// <summary>Gets or sets the prices that give <see cref="RlmResult.CostUsd"/> and enforce <see cref="MaxCostUsd"/>.</summary>
    /// <value>The default value is <see cref="RlmPriceTable.Default"/> (a new table per options instance).</value>
    public RlmPriceTable Prices { get; set => field = value ?? throw new ArgumentNullException(nameof(Prices)); } = RlmPriceTable.Default;

    /// <summary>
    /// Gets or sets custom tools the root model may call next to the ten built-in ones (as the reference library's
    /// <c>custom_tools</c>). Each <see cref="Microsoft.Extensions.AI.AIFunction"/> is declared to the model and run by the
    /// engine, never by a <c>FunctionInvokingChatClient</c> in the pipeline: its result, converted to text (JSON for
    /// non-strings), is capped at <see cref="MaxToolOutputChars"/>; an exception becomes an error result the model reads;
    /// calls count in <see cref="RlmStatistics.ToolCalls"/> and get an <c>execute_tool</c> span. Only the root session
    /// (depth 0) sees them.
    /// </summary>
    /// <value>The default value is an empty list. Names must be unique and must not be a built-in tool's name (checked when a <see cref="RecursiveLanguageModel"/> is created).</value>
    public IList<Microsoft.Extensions.AI.AITool> Tools { get => _tools; set => _tools = [.. value ?? throw new ArgumentNullException(nameof(Tools))]; }

    /// <summary>
    /// Gets or sets where the engine logs (run start and end, iterations, tool calls, sub-calls, retries and failures,
    /// through <c>[LoggerMessage]</c> methods of category <c>Rlm.Tools</c>). No prompt, context, answer or tool text is
    /// logged above <see cref="Microsoft.Extensions.Logging.LogLevel.Trace"/>; provider errors are redacted.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no logging.</value>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Gets or sets the services handed to custom tools (<see cref="Tools"/>) as
    /// <see cref="Microsoft.Extensions.AI.AIFunctionArguments.Services"/>, so a function made by
    /// <see cref="Microsoft.Extensions.AI.AIFunctionFactory"/> with an <see cref="IServiceProvider"/> parameter (or one that
    /// reads <c>arguments.Services</c>) gets the host's services, as <c>FunctionInvokingChatClient</c>'s
    /// <c>functionInvocationServices</c> does. <c>AddRecursiveLanguageModel</c> sets it to the container's provider and
    /// <c>UseRecursiveLanguageModel</c> to the pipeline's, unless it is already set.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: custom tools get no services.</value>
    public IServiceProvider? Services { get; set; }

    /// <summary>Gets or sets the model id sent with root-model requests (<see cref="Microsoft.Extensions.AI.ChatOptions.ModelId"/>).</summary>
    /// <value>The default value is <see langword="null"/>: the client's own default model.</value>
    public string? RootModelId { get; set; }

    /// <summary>Gets or sets the model id sent with worker-model requests (sub-calls at depth 1 and below).</summary>
    /// <value>The default value is <see langword="null"/>: the worker client's own default model.</value>
    public string? WorkerModelId { get; set; }

    /// <summary>Gets or sets the root session's system prompt, replacing <c>prompts/root.md</c>. Placeholders are described in <see cref="RlmPrompts"/>.</summary>
    /// <value>The default value is <see langword="null"/>: the embedded prompt.</value>
    public string? RootSystemPrompt { get; set; }

    /// <summary>Gets or sets the system prompt of recursive worker sessions (depth 1 to <see cref="MaxDepth"/> − 1), replacing <c>prompts/worker.md</c>.</summary>
    /// <value>The default value is <see langword="null"/>: the embedded prompt.</value>
    public string? WorkerSystemPrompt { get; set; }

    /// <summary>Gets or sets the system prompt of leaf completions, replacing <c>prompts/leaf.md</c>.</summary>
    /// <value>The default value is <see langword="null"/>: the embedded prompt.</value>
    public string? LeafSystemPrompt { get; set; }

    /// <summary>
    /// Gets or sets a receiver of the run's typed events (<see cref="RlmEvent"/>: iterations, model responses, retries,
    /// tool calls, sub-calls, budget warnings, and last <see cref="RlmRunCompleted"/>), the same events
    /// <see cref="RecursiveLanguageModel.QueryStreamingAsync(string, RlmCorpus, CancellationToken)"/> yields. It is called
    /// synchronously on the thread where the event happened, one event at a time (never concurrently) and in order of
    /// <see cref="RlmEvent.Elapsed"/>, so it must be quick (it holds up the run's other events);
    /// <see cref="Progress{T}"/> posts each event to a synchronization context or the thread pool and may reorder them.
    /// An exception it throws fails the run.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public IProgress<RlmEvent>? Progress { get; set; }

    /// <summary>Gets or sets the time source for timestamps and durations in the trace and statistics.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Copies these options.</summary>
    public RlmOptions Clone()
    {
        var copy = (RlmOptions)MemberwiseClone();
        copy._redactedValues = [.. _redactedValues];
        copy._tools = [.. _tools];
        copy._modelContextWindows = new Dictionary<string, int>(_modelContextWindows, StringComparer.OrdinalIgnoreCase);
        copy._workers = [.. _workers];
        return copy;
    }

    private static int Positive(int value, [System.Runtime.CompilerServices.CallerMemberName] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, name);
        return value;
    }

    private static int InRange(int value, int min, int max, [System.Runtime.CompilerServices.CallerMemberName] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, name);
        return value;
    }

    private static TimeSpan InRange(TimeSpan value, TimeSpan min, TimeSpan max, [System.Runtime.CompilerServices.CallerMemberName] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, name);
        return value;
    }

    private static TimeSpan Positive(TimeSpan value, [System.Runtime.CompilerServices.CallerMemberName] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, name);
        return value;
    }
}
