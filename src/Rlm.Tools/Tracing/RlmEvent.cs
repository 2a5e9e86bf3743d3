using Rlm.Tools.Context;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace Rlm.Tools;

/// <summary>
/// One typed event of a run, from <see cref="RecursiveLanguageModel.QueryStreamingAsync(string, RlmCorpus, CancellationToken)"/>
/// and <see cref="RlmOptions.Progress"/>. Events of parallel sub-calls interleave; <see cref="Depth"/> says which level
/// each comes from. Text taken from models, tools and providers (arguments, excerpts, reasons, messages) has passed
/// through <see cref="SecretRedactor"/> (with <see cref="RlmOptions.RedactedValues"/>); <see cref="RlmRunCompleted.Result"/>
/// is the result unchanged, as <see cref="RecursiveLanguageModel.QueryAsync(string, RlmCorpus, CancellationToken)"/> returns it.
/// </summary>
/// <param name="Elapsed">Time since the run started, taken when the event is sent: never smaller than the previous event's, in the order the events arrive.</param>
/// <param name="Depth">The depth of the session it happened in (root = 0; a sub-call's events carry the sub-call's depth).</param>
public abstract record RlmEvent(TimeSpan Elapsed, int Depth)
{
    /// <summary>Returns the event as one line of text, as <c>rlm -v</c>, MCP progress notifications and the middleware's streamed updates show it, for example <c>iter 2: calling gpt-4.1 (root)...</c>.</summary>
    /// <returns>One line without line breaks.</returns>
    public abstract string Describe();

    private protected static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private protected static string Plural(int n, string noun) => Invariant($"{n} {noun}{(n == 1 ? "" : "s")}");

    /// <summary>Returns a copy whose text from outside the engine has passed through <paramref name="redactor"/>.</summary>
    internal virtual RlmEvent Redact(SecretRedactor redactor) => this;
}

/// <summary>A session sends the model request of iteration <paramref name="Iteration"/> (1-based).</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Iteration">The iteration, 1-based.</param>
/// <param name="Role"><c>root</c> or <c>worker</c>.</param>
/// <param name="ModelId">The model id requested (<see cref="RlmOptions.RootModelId"/> or <see cref="RlmOptions.WorkerModelId"/>), or <see langword="null"/> when none is set.</param>
public sealed record RlmIterationStarted(TimeSpan Elapsed, int Depth, int Iteration, string Role, string? ModelId = null) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => Invariant($"iter {Iteration}: calling {ModelId ?? Role} ({Role})...");
}

/// <summary>
/// A session stops taking tool iterations without <c>final</c> (iteration or error limit, budget) and either asks its
/// model once more, without tools, for its answer, or ends with the best answer so far.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Role"><c>root</c> or <c>worker</c>.</param>
/// <param name="ModelId">The model id requested, or <see langword="null"/> when none is set.</param>
/// <param name="Reason">Why the iterations stopped.</param>
/// <param name="AsksForAnswer">Whether one last request without tools follows; <see langword="false"/>: the session ends with its model's last text.</param>
public sealed record RlmIterationsStopped(TimeSpan Elapsed, int Depth, string Role, string? ModelId, RlmStopReason Reason, bool AsksForAnswer) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => AsksForAnswer
        ? $"{RlmStopReasonText.Describe(Reason)}: asking {ModelId ?? Role} ({Role}) for its answer..."
        : $"{RlmStopReasonText.Describe(Reason)}: the run stops with its best answer so far";
}

/// <summary>A model answered (after its retries, if any).</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Role"><c>root</c> or <c>worker</c>.</param>
/// <param name="ModelId">The model id the response reported, or the one requested.</param>
/// <param name="Usage">The response's token usage, when the provider reported it.</param>
/// <param name="FunctionCalls">How many function calls the reply holds.</param>
public sealed record RlmModelResponded(TimeSpan Elapsed, int Depth, string Role, string? ModelId, UsageDetails? Usage, int FunctionCalls) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe()
    {
        string what = FunctionCalls > 0 ? Plural(FunctionCalls, "function call") : "text";
        string tokens = Usage is { } u ? Invariant($", {u.InputTokenCount ?? 0:N0} input / {u.OutputTokenCount ?? 0:N0} output tokens") : "";
        return $"{ModelId ?? Role} ({Role}) replied: {what}{tokens}";
    }
}

/// <summary>
/// A transient failure of a model request (timeout, HTTP 429 or 5xx, a connection failure, an unusable response); the
/// request is sent again after <paramref name="Delay"/> (see <see cref="RlmOptions.MaxModelRetries"/>).
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The depth of the session whose request failed.</param>
/// <param name="Role"><c>root</c> or <c>worker</c>.</param>
/// <param name="Retry">Which retry follows, 1-based.</param>
/// <param name="MaxRetries">The most retries a request gets (<see cref="RlmOptions.MaxModelRetries"/>).</param>
/// <param name="Delay">The wait before the retry (back-off with jitter, or the provider's <c>Retry-After</c>, capped by <see cref="RlmOptions.ModelRetryMaxDelay"/>).</param>
/// <param name="Kind">The kind of failure.</param>
/// <param name="StatusCode">The HTTP status code, when there was one.</param>
/// <param name="Reason">The failure's message, on one line, at most 160 characters, redacted.</param>
public sealed record RlmModelRetry(TimeSpan Elapsed, int Depth, string Role, int Retry, int MaxRetries, TimeSpan Delay, RlmModelFailureKind Kind, int? StatusCode, string Reason) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() =>
        Invariant($"{Role} request {DescribeFailure(Kind, StatusCode)}; retry {Retry} of {MaxRetries} in {Delay.TotalSeconds:0.0} s: {Reason}");

    internal override RlmEvent Redact(SecretRedactor redactor) => this with { Reason = redactor.Redact(Reason) };

    /// <summary>The failure in a few words, for example <c>server error (HTTP 503)</c>.</summary>
    internal static string DescribeFailure(RlmModelFailureKind kind, int? statusCode)
    {
        string text = kind switch
        {
            RlmModelFailureKind.Timeout => "timed out",
            RlmModelFailureKind.RateLimited => "rate limited",
            RlmModelFailureKind.ServerError => "server error",
            RlmModelFailureKind.Transport => "connection failed",
            RlmModelFailureKind.InvalidResponse => "unreadable response",
            RlmModelFailureKind.EmptyResponse => "empty response",
            RlmModelFailureKind.ClientError => "refused (not retried)",
            _ => "unexpected error (not retried)",
        };
        return statusCode is { } status ? Invariant($"{text} (HTTP {status})") : text;
    }
}

/// <summary>The function calls of one reply start in parallel (a reply with two or more calls).</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Names">The tools called, in the reply's order (one entry per call).</param>
public sealed record RlmParallelCalls(TimeSpan Elapsed, int Depth, IReadOnlyList<string> Names) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe()
    {
        var repeated = Names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => Invariant($"{g.Key}(...) x{g.Count()}")).ToList();
        return Invariant($"{Names.Count} calls in parallel: {(repeated.Count > 0 ? string.Join(", ", repeated) : string.Join(", ", Names))}");
    }

    internal override RlmEvent Redact(SecretRedactor redactor) => this with { Names = [.. Names.Select(redactor.Redact)] };
}

/// <summary>A tool call starts.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="CallId">The function call's id.</param>
/// <param name="Name">The tool's name.</param>
/// <param name="Arguments">The call as the trace shows it, e.g. <c>grep(pattern="error")</c> (arguments cut at 48 characters).</param>
public sealed record RlmToolCallStarted(TimeSpan Elapsed, int Depth, string? CallId, string Name, string Arguments) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => Arguments.ReplaceLineEndings(" ");

    internal override RlmEvent Redact(SecretRedactor redactor) => this with { Name = redactor.Redact(Name), Arguments = redactor.Redact(Arguments) };
}

/// <summary>A tool call ended.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="CallId">The function call's id.</param>
/// <param name="Name">The tool's name.</param>
/// <param name="IsError">Whether the result is an error the model reads.</param>
/// <param name="ResultExcerpt">The first line of the result, at most 200 characters.</param>
public sealed record RlmToolCallEnded(TimeSpan Elapsed, int Depth, string? CallId, string Name, bool IsError, string ResultExcerpt) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => $"{Name} {(IsError ? "failed" : "returned")}: {ResultExcerpt}";

    internal override RlmEvent Redact(SecretRedactor redactor) => this with { Name = redactor.Redact(Name), ResultExcerpt = redactor.Redact(ResultExcerpt) };
}

/// <summary>A sub-call starts at <see cref="RlmEvent.Depth"/> (one below its parent).</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The sub-call's depth.</param>
/// <param name="Chars">Characters of context (or of the prompt, for <c>llm_query</c>) it receives.</param>
/// <param name="IsLeaf">Whether it is one plain completion (at the maximum depth) rather than a session with tools.</param>
/// <param name="ModelId">The worker model id requested (<see cref="RlmOptions.WorkerModelId"/>), or <see langword="null"/> when none is set.</param>
public sealed record RlmSubCallStarted(TimeSpan Elapsed, int Depth, int Chars, bool IsLeaf, string? ModelId = null) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => Invariant($"sub-call started (depth={Depth}, {Chars:N0} chars, {(IsLeaf ? "leaf" : "session")}) [{ModelId ?? "worker"}]");
}

/// <summary>A sub-call ended.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The sub-call's depth.</param>
/// <param name="Failed">Whether it failed (counted in <see cref="RlmStatistics.FailedSubCalls"/>).</param>
/// <param name="Excerpt">The first line of its answer or error, at most 200 characters.</param>
public sealed record RlmSubCallEnded(TimeSpan Elapsed, int Depth, bool Failed, string Excerpt) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => Failed
        ? Invariant($"sub-call failed (depth={Depth}): {Excerpt}")
        : Invariant($"sub-call done (depth={Depth}): {TextLimits.OneLine(Excerpt, 80)}");

    internal override RlmEvent Redact(SecretRedactor redactor) => this with { Excerpt = redactor.Redact(Excerpt) };
}

/// <summary>A session (the root, or a recursive sub-call's) ended with an answer.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Iterations">The iterations it took.</param>
/// <param name="StopReason">Why it stopped.</param>
public sealed record RlmSessionCompleted(TimeSpan Elapsed, int Depth, int Iterations, RlmStopReason StopReason) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => Invariant($"{(Depth > 0 ? "sub-call" : "query")} done at depth {Depth} after {Plural(Iterations, "iteration")} ({RlmStopReasonText.GetName(StopReason)})");
}

/// <summary>
/// A sub-call was answered by an identical sub-call of the run (same worker model, depth, query and slice;
/// <see cref="RlmOptions.MemoizeSubCalls"/>): no request was sent. Counted in <see cref="RlmStatistics.MemoizedSubCalls"/>.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The sub-call's depth.</param>
/// <param name="Chars">Characters of context (or of the prompt, for <c>llm_query</c>) it would have received.</param>
public sealed record RlmSubCallMemoized(TimeSpan Elapsed, int Depth, int Chars) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => Invariant($"sub-call memoized (depth={Depth}, {Chars:N0} chars): answered by an identical sub-call");
}

/// <summary>
/// A session's conversation outgrew <see cref="RlmOptions.MaxConversationChars"/> and was compacted. Counted in
/// <see cref="RlmStatistics.Compactions"/>.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Summarized">Whether the oldest messages were replaced by a summary from the model; <see langword="false"/> when old tool results were cut to a note of their length instead (summaries off, or the summary request failed).</param>
/// <param name="CharsBefore">Characters of the conversation before compaction.</param>
/// <param name="CharsAfter">Characters after.</param>
public sealed record RlmConversationCompacted(TimeSpan Elapsed, int Depth, bool Summarized, long CharsBefore, long CharsAfter) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() =>
        Invariant($"conversation compacted at depth {Depth}: {CharsBefore:N0} -> {CharsAfter:N0} characters ({(Summarized ? "older messages summarized" : "old tool results cut")})");
}

/// <summary>
/// A streamed root reply broke off after some of its function calls had started (see
/// <see cref="RlmOptions.StreamRootResponses"/>): it is not asked for again, since its tools would run twice; it is cut after
/// its last complete call, those calls run, and the model is told the rest was lost.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Role"><c>root</c> or <c>worker</c>.</param>
/// <param name="StartedCalls">Function calls of the reply that had started.</param>
/// <param name="Cause">What broke the stream, on one line, redacted.</param>
public sealed record RlmReplyCut(TimeSpan Elapsed, int Depth, string Role, int StartedCalls, string Cause) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() =>
        Invariant($"{Role} reply broke off after {Plural(StartedCalls, "started call")} ({Cause}); it is cut there and not asked again");

    internal override RlmEvent Redact(SecretRedactor redactor) => this with { Cause = redactor.Redact(Cause) };
}

/// <summary>A budget of <see cref="RlmOptions"/> is nearly (90%) or wholly spent.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">Always 0: budgets are the run's.</param>
/// <param name="Message">Which budget, and how much of it is used.</param>
public sealed record RlmBudgetWarning(TimeSpan Elapsed, int Depth, string Message) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => Message;
}

/// <summary>
/// A corpus tool's query waits for its turn because the host already runs as many queries as its
/// <see cref="RlmQueryLimiter"/> allows; reported when it starts waiting and every few seconds after, before the run starts.
/// </summary>
/// <param name="Elapsed">How long the query has waited so far.</param>
/// <param name="Depth">Always 0.</param>
/// <param name="Running">The queries running now.</param>
/// <param name="MaxConcurrentQueries">The most queries the host runs at once.</param>
/// <param name="QueueTimeout">How long the query may wait before it is refused.</param>
public sealed record RlmQueryQueued(TimeSpan Elapsed, int Depth, int Running, int MaxConcurrentQueries, TimeSpan QueueTimeout) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() =>
        Invariant($"waiting for a turn: {Running} of at most {MaxConcurrentQueries} queries are running; waited {Elapsed.TotalSeconds:0} s of at most {QueueTimeout.TotalSeconds:0.###} s");
}

/// <summary>The run ended: its answer and the whole result. Always the last event of a run that did not throw.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">Always 0.</param>
/// <param name="Answer">The answer.</param>
/// <param name="Result">The result, as <see cref="RecursiveLanguageModel.QueryAsync(string, RlmCorpus, CancellationToken)"/> returns it.</param>
public sealed record RlmRunCompleted(TimeSpan Elapsed, int Depth, string Answer, RlmResult Result) : RlmEvent(Elapsed, Depth)
{
    /// <inheritdoc />
    public override string Describe() => $"run completed ({RlmStopReasonText.GetName(Result.StopReason)}): {TextLimits.OneLine(Answer.Length > 0 ? Answer : Result.StopMessage ?? "", 80)}";
}

/// <summary>
/// The host checked the citations of the final answer against the context (<see cref="RlmOptions.CitationPolicy"/> not
/// <see cref="RlmCitationPolicy.Off"/>): sent once, before <see cref="RlmRunCompleted"/>, also when the answer cites nothing.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">Always 0.</param>
/// <param name="Citations">The citations in answer order, as in <see cref="RlmResult.Citations"/>.</param>
public sealed record RlmCitationsChecked(TimeSpan Elapsed, int Depth, IReadOnlyList<RlmCitation> Citations) : RlmEvent(Elapsed, Depth)
{
    /// <summary>Gets how many citations are verified.</summary>
    public int VerifiedCount => Citations.Count(c => c.Verified);

    /// <inheritdoc />
    public override string Describe() => Citations.Count == 0
        ? "citations: the answer cites no line"
        : Invariant($"citations: {VerifiedCount} of {Citations.Count} verified");

    internal override RlmEvent Redact(SecretRedactor redactor) =>
        this with { Citations = [.. Citations.Select(c => c with { Quote = c.Quote is null ? null : redactor.Redact(c.Quote), Text = redactor.Redact(c.Text) })] };
}
