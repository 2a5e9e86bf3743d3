using Microsoft.Extensions.AI;

namespace Rlm.Tools;

/// <summary>
/// One typed event of a run, from <see cref="RecursiveLanguageModel.QueryStreamingAsync(string, RlmCorpus, CancellationToken)"/>.
/// Events of parallel sub-calls interleave; <see cref="Depth"/> says which level each comes from.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The depth of the session it happened in (root = 0; a sub-call's events carry the sub-call's depth).</param>
public abstract record RlmEvent(TimeSpan Elapsed, int Depth);

/// <summary>A session sends the model request of iteration <paramref name="Iteration"/> (1-based).</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Iteration">The iteration, 1-based.</param>
/// <param name="Role"><c>root</c> or <c>worker</c>.</param>
public sealed record RlmIterationStarted(TimeSpan Elapsed, int Depth, int Iteration, string Role) : RlmEvent(Elapsed, Depth);

/// <summary>A model answered (after its retries, if any).</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Role"><c>root</c> or <c>worker</c>.</param>
/// <param name="ModelId">The model id the response reported, or the one requested.</param>
/// <param name="Usage">The response's token usage, when the provider reported it.</param>
/// <param name="FunctionCalls">How many function calls the reply holds.</param>
public sealed record RlmModelResponded(TimeSpan Elapsed, int Depth, string Role, string? ModelId, UsageDetails? Usage, int FunctionCalls) : RlmEvent(Elapsed, Depth);

/// <summary>A tool call starts.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="CallId">The function call's id.</param>
/// <param name="Name">The tool's name.</param>
/// <param name="Arguments">The call as the trace shows it, e.g. <c>grep(pattern="error")</c> (arguments cut at 48 characters).</param>
public sealed record RlmToolCallStarted(TimeSpan Elapsed, int Depth, string? CallId, string Name, string Arguments) : RlmEvent(Elapsed, Depth);

/// <summary>A tool call ended.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="CallId">The function call's id.</param>
/// <param name="Name">The tool's name.</param>
/// <param name="IsError">Whether the result is an error the model reads.</param>
/// <param name="ResultExcerpt">The first line of the result, at most 200 characters.</param>
public sealed record RlmToolCallEnded(TimeSpan Elapsed, int Depth, string? CallId, string Name, bool IsError, string ResultExcerpt) : RlmEvent(Elapsed, Depth);

/// <summary>A sub-call starts at <see cref="RlmEvent.Depth"/> (one below its parent).</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The sub-call's depth.</param>
/// <param name="Chars">Characters of context (or of the prompt, for <c>llm_query</c>) it receives.</param>
/// <param name="IsLeaf">Whether it is one plain completion (at the maximum depth) rather than a session with tools.</param>
public sealed record RlmSubCallStarted(TimeSpan Elapsed, int Depth, int Chars, bool IsLeaf) : RlmEvent(Elapsed, Depth);

/// <summary>A sub-call ended.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The sub-call's depth.</param>
/// <param name="Failed">Whether it failed (counted in <see cref="RlmStatistics.FailedSubCalls"/>).</param>
/// <param name="Excerpt">The first line of its answer or error, at most 200 characters.</param>
public sealed record RlmSubCallEnded(TimeSpan Elapsed, int Depth, bool Failed, string Excerpt) : RlmEvent(Elapsed, Depth);

/// <summary>
/// A sub-call was answered by an identical sub-call of the run (same worker model, depth, query and slice;
/// <see cref="RlmOptions.MemoizeSubCalls"/>): no request was sent. Counted in <see cref="RlmStatistics.MemoizedSubCalls"/>.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The sub-call's depth.</param>
/// <param name="Chars">Characters of context (or of the prompt, for <c>llm_query</c>) it would have received.</param>
public sealed record RlmSubCallMemoized(TimeSpan Elapsed, int Depth, int Chars) : RlmEvent(Elapsed, Depth);

/// <summary>
/// A session's conversation outgrew <see cref="RlmOptions.MaxConversationChars"/> and was compacted. Counted in
/// <see cref="RlmStatistics.Compactions"/>.
/// </summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">The session's depth.</param>
/// <param name="Summarized">Whether the oldest messages were replaced by a summary from the model; <see langword="false"/> when old tool results were cut to a note of their length instead (summaries off, or the summary request failed).</param>
/// <param name="CharsBefore">Characters of the conversation before compaction.</param>
/// <param name="CharsAfter">Characters after.</param>
public sealed record RlmConversationCompacted(TimeSpan Elapsed, int Depth, bool Summarized, long CharsBefore, long CharsAfter) : RlmEvent(Elapsed, Depth);

/// <summary>A budget of <see cref="RlmOptions"/> is nearly (90%) or wholly spent.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">Always 0: budgets are the run's.</param>
/// <param name="Message">Which budget, and how much of it is used.</param>
public sealed record RlmBudgetWarning(TimeSpan Elapsed, int Depth, string Message) : RlmEvent(Elapsed, Depth);

/// <summary>The run ended: its answer and the whole result. Always the last event of a run that did not throw.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Depth">Always 0.</param>
/// <param name="Answer">The answer.</param>
/// <param name="Result">The result, as <see cref="RecursiveLanguageModel.QueryAsync(string, RlmCorpus, CancellationToken)"/> returns it.</param>
public sealed record RlmRunCompleted(TimeSpan Elapsed, int Depth, string Answer, RlmResult Result) : RlmEvent(Elapsed, Depth);
