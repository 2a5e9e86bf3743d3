using Microsoft.Extensions.AI;
using Rlm.Tools.Context;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// One query, shared by all of its sessions: the options, the observer (events, trace, logs, spans, statistics), the
/// budget, the model-request queue and the sub-call runner. Built by <see cref="RecursiveLanguageModel"/> per query.
/// </summary>
internal sealed class QueryRun : IAsyncDisposable
{
    public QueryRun(IChatClient rootClient, IChatClient workerClient, RlmOptions options, Action<RlmEvent>? events = null, AnswerFormat? answerFormat = null)
    {
        Options = options;
        AnswerFormat = answerFormat;
        Observer = new RunObserver(options, events);
        Budget = new RunBudget(options, Observer);
        Models = new ModelRequestQueue(rootClient, workerClient, options, Observer, Budget);
        SubCalls = new SubCallRunner(this, SubCallFit.For(options, workerClient));
    }

    public RlmOptions Options { get; }

    /// <summary>Gets the shape the root's final answer must have (a typed query), or <see langword="null"/> for a text answer.</summary>
    public AnswerFormat? AnswerFormat { get; }

    public RunObserver Observer { get; }

    public RunBudget Budget { get; }

    public ModelRequestQueue Models { get; }

    public SubCallRunner SubCalls { get; }

    /// <summary>Assembles the result: the outcome, usage and cost, statistics and the trajectory.</summary>
    /// <param name="outcome">How the root session ended.</param>
    /// <param name="trajectory">The root node.</param>
    /// <param name="stopMessage">Why the run stopped, when the stop reason's own sentence is not enough (a failure's message).</param>
    /// <param name="citations">The final answer's citations as checked (none: empty).</param>
    public RlmResult CreateResult(SessionOutcome outcome, RlmTraceNode trajectory, string? stopMessage = null, IReadOnlyList<RlmCitation>? citations = null)
    {
        var (usage, byModel) = Budget.Usage();
        return new RlmResult
        {
            CostUsd = Options.Prices.Cost(byModel),
            UnpricedModels = [.. byModel.Keys.Where(model => Options.Prices.Find(model) is null).Order(StringComparer.Ordinal)],
            Answer = outcome.Answer,
            Citations = citations ?? [],
            StopReason = outcome.StopReason,
            StopMessage = stopMessage ?? RlmStopReasonText.DescribeStop(outcome.StopReason, hasAnswer: outcome.Answer.Length > 0),
            Usage = usage,
            UsageByModel = byModel,
            Trajectory = trajectory,
            Statistics = Observer.Statistics.Snapshot(outcome.Iterations, Models.PeakInFlight, Observer.Elapsed),
        };
    }

    /// <summary>Checks the citations of a final answer under <see cref="RlmOptions.CitationPolicy"/>, and reports them.</summary>
    public IReadOnlyList<RlmCitation> CheckCitations(SessionOutcome outcome, ContextText context)
    {
        bool isFinal = outcome.StopReason is RlmStopReason.Final or RlmStopReason.FinalVariable;
        if (Options.CitationPolicy == RlmCitationPolicy.Off || !isFinal)
        {
            return [];
        }

        var citations = CitationChecker.Check(outcome.Answer, context);

        // The cited lines are context text bound for the trajectory: secrets are redacted as in its node summaries.
        citations = [.. citations.Select(c => c.Source is { } s ? c with { Source = s with { Text = Observer.Redactor.Redact(s.Text) } } : c)];
        Observer.CitationsChecked(citations);
        return citations;
    }

    public ValueTask DisposeAsync() => Models.DisposeAsync();
}

/// <summary>How a session ended: its answer and why.</summary>
internal sealed record SessionOutcome(string Answer, RlmStopReason StopReason, int Iterations);
