using Microsoft.Extensions.AI;
using Rlm.Tools.Orchestration;

namespace Rlm.Tools;

/// <summary>One question of an <see cref="RlmConversation"/> and its answer.</summary>
/// <param name="Question">The question.</param>
/// <param name="Answer">The answer.</param>
public sealed record RlmConversationTurn(string Question, string Answer);

/// <summary>
/// Several questions over one corpus, as a conversation: variables (<c>set_variable</c>) and JavaScript globals persist
/// from one question to the next, the root model sees the earlier questions and answers (the most recent first, up to
/// 20,000 characters; all of them are in the variable <see cref="EarlierTurnsVariable"/> once they outgrow that), and usage
/// accumulates. Within one question, a long session is compacted (<see cref="RlmOptions.MaxConversationChars"/>). Questions take turns; the context is never re-indexed.
/// </summary>
public sealed class RlmConversation : IDisposable
{
    /// <summary>Most characters of earlier questions and answers shown to the root model.</summary>
    public const int MaxHistoryChars = 20_000;

    /// <summary>
    /// The variable that holds every earlier question and answer (<c>Q1: …\nA1: …\n</c>, oldest first) once they no longer
    /// fit in <see cref="MaxHistoryChars"/>; the root model reads it with <c>get_variable</c> or in <c>exec_js</c>.
    /// </summary>
    public const string EarlierTurnsVariable = "earlier_turns";

    private readonly RecursiveLanguageModel _rlm;
    private readonly RlmCorpus _corpus;
    private readonly ConversationState _state = new();
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly UsageDetails _usage = new();
    private decimal? _cost = 0;

    /// <summary>Starts a conversation over <paramref name="corpus"/>.</summary>
    /// <param name="rlm">The model that answers.</param>
    /// <param name="corpus">The prepared context.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public RlmConversation(RecursiveLanguageModel rlm, RlmCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(rlm);
        ArgumentNullException.ThrowIfNull(corpus);
        _rlm = rlm;
        _corpus = corpus;
    }

    /// <summary>
    /// Continues a conversation over <paramref name="corpus"/> from a <see cref="RlmConversationSnapshot"/> (made by
    /// <see cref="ToSnapshotAsync"/>, here or in another process): its turns, variables, usage and cost carry over.
    /// </summary>
    /// <param name="rlm">The model that answers.</param>
    /// <param name="corpus">The prepared context (the same documents as the snapshot's conversation, for its answers to stay true).</param>
    /// <param name="snapshot">The state to continue from.</param>
    /// <exception cref="ArgumentNullException">An argument, or a turn or variable of <paramref name="snapshot"/>, is <see langword="null"/>.</exception>
    public RlmConversation(RecursiveLanguageModel rlm, RlmCorpus corpus, RlmConversationSnapshot snapshot)
        : this(rlm, corpus)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        foreach (var turn in snapshot.Turns)
        {
            ArgumentNullException.ThrowIfNull(turn, nameof(snapshot));
            _state.Turns.Add(turn);
        }

        foreach (var (name, value) in snapshot.Variables)
        {
            ArgumentNullException.ThrowIfNull(value, nameof(snapshot));
            _state.Variables.Set(name, value);
        }

        _usage.Add(snapshot.Usage ?? new UsageDetails());
        _cost = snapshot.CostUsd;
    }

    /// <summary>Gets the questions asked so far and their answers, in order.</summary>
    public IReadOnlyList<RlmConversationTurn> Turns
    {
        get
        {
            lock (_state.Turns)
            {
                return [.. _state.Turns];
            }
        }
    }

    /// <summary>
    /// Gets the usage of every question so far, summed: answered questions, and what a question whose root model failed
    /// spent before it failed (<see cref="RlmModelException.PartialResult"/>); a canceled question's usage is not known.
    /// </summary>
    public UsageDetails Usage
    {
        get
        {
            lock (_usage)
            {
                var copy = new UsageDetails();
                copy.Add(_usage);
                return copy;
            }
        }
    }

    /// <summary>Gets the cost in USD of every question so far (as <see cref="Usage"/>); <see langword="null"/> when a model used has no price.</summary>
    public decimal? CostUsd { get { lock (_usage) { return _cost; } } }

    /// <summary>
    /// Takes the conversation's state as plain data: its turns, variables, usage and cost (not JavaScript globals). Waits for
    /// a question being answered to finish, so the snapshot is never half a turn.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The snapshot; <see cref="RlmConversation(RecursiveLanguageModel, RlmCorpus, RlmConversationSnapshot)"/> continues from it.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled while waiting.</exception>
    public async Task<RlmConversationSnapshot> ToSnapshotAsync(CancellationToken cancellationToken = default)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string name in _state.Variables.Names)
            {
                if (_state.Variables.TryGet(name, out string value))
                {
                    variables[name] = value;
                }
            }

            return new RlmConversationSnapshot { Turns = Turns, Variables = variables, Usage = Usage, CostUsd = CostUsd };
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Answers the next question of the conversation.</summary>
    /// <param name="question">The question.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>This question's result.</returns>
    /// <exception cref="ArgumentException"><paramref name="question"/> is empty.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good.</exception>
    /// <exception cref="ObjectDisposedException">The conversation is disposed.</exception>
    public async Task<RlmResult> AskAsync(string question, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            RlmResult result;
            try
            {
                result = await _rlm.RunInConversationAsync(question, _corpus, _state, cancellationToken).ConfigureAwait(false);
            }
            catch (RlmModelException e) when (e.PartialResult is { } partial)
            {
                // Not a turn (no answer), but its tokens were spent: they count.
                AddUsage(partial);
                throw;
            }

            lock (_state.Turns)
            {
                _state.Turns.Add(new RlmConversationTurn(question, result.Answer));
            }

            AddUsage(result);
            return result;
        }
        finally
        {
            _turn.Release();
        }
    }

    private void AddUsage(RlmResult result)
    {
        lock (_usage)
        {
            _usage.Add(result.Usage);
            _cost = _cost is { } sum && result.CostUsd is { } cost ? sum + cost : null;
        }
    }

    /// <summary>Stops the conversation's JavaScript engine.</summary>
    public void Dispose() => _state.Dispose();
}
