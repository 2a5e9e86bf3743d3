using System.Diagnostics;
using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Orchestration;

namespace Rlm.Tools;

/// <summary>
/// A Recursive Language Model (Zhang, Kraska, Khattab, arXiv 2512.24601): answers a question over a context far larger
/// than any model's window by keeping the context out of the prompt and letting a root model explore it with tools.
/// </summary>
public sealed class RecursiveLanguageModel
{
    /// <summary>Creates a Recursive Language Model.</summary>
    /// <param name="rootClient">The root model, which drives the tools at depth 0.</param>
    /// <param name="workerClient">The worker model for sub-calls (depth 1 and below); <see langword="null"/> uses <paramref name="rootClient"/>.</param>
    /// <param name="options">Options; <see langword="null"/> uses the defaults of <see cref="RlmOptions"/>. They are copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="rootClient"/> is <see langword="null"/>.</exception>
    public RecursiveLanguageModel(IChatClient rootClient, IChatClient? workerClient = null, RlmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rootClient);
        RootClient = rootClient;
        WorkerClient = workerClient ?? rootClient;
        Options = options?.Clone() ?? new RlmOptions();
    }

    /// <summary>Gets the root model.</summary>
    public IChatClient RootClient { get; }

    /// <summary>Gets the worker model.</summary>
    public IChatClient WorkerClient { get; }

    /// <summary>Gets a copy of the options in force.</summary>
    public RlmOptions Options { get; }

    /// <summary>Answers <paramref name="query"/> over one string context.</summary>
    /// <param name="query">The question.</param>
    /// <param name="context">The context; it is never sent in a prompt, only explored through tools.</param>
    /// <param name="cancellationToken">Cancels every model request and tool of the run.</param>
    /// <returns>The answer, why the run stopped, usage, statistics and trajectory.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="context"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty or white space.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good (see <see cref="RlmOptions.MaxModelRetries"/>); <see cref="RlmModelException.PartialResult"/> holds the run so far.</exception>
    public Task<RlmResult> QueryAsync(string query, string context, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(context);
        return RunAsync(query, ContextText.FromString(context), cancellationToken);
    }

    /// <summary>Answers <paramref name="query"/> over several named documents (for example the files of a directory).</summary>
    /// <param name="query">The question.</param>
    /// <param name="documents">The documents, joined in order into one context; tool output names the document and line of each hit.</param>
    /// <param name="cancellationToken">Cancels every model request and tool of the run.</param>
    /// <returns>The answer, why the run stopped, usage, statistics and trajectory.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="documents"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty, or the documents are empty or too large for one context.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good (see <see cref="RlmOptions.MaxModelRetries"/>); <see cref="RlmModelException.PartialResult"/> holds the run so far.</exception>
    public Task<RlmResult> QueryAsync(string query, IReadOnlyList<RlmDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(documents);
        if (documents.Count == 0)
        {
            throw new ArgumentException("At least one document is required.", nameof(documents));
        }

        return RunAsync(query, ContextText.FromDocuments(documents), cancellationToken);
    }

    private async Task<RlmResult> RunAsync(string query, ContextText text, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var view = new ContextView(text);
        using var activity = RlmTelemetry.ActivitySource.StartActivity("rlm.query");
        activity?.SetTag("rlm.context.chars", view.Length);
        activity?.SetTag("rlm.context.lines", view.LineCount);
        activity?.SetTag("rlm.context.documents", text.Documents.Count);
        activity?.SetTag("rlm.max_depth", Options.MaxDepth);
        try
        {
            await using var run = new RlmRun(RootClient, WorkerClient, Options);
            var trajectory = new RlmTraceNode(RlmTraceKind.Session, $"query(depth=0, {view.Length:N0} chars)", depth: 0, startedAt: TimeSpan.Zero);
            var session = new RlmSession(run, depth: 0, view, query, trajectory);
            SessionOutcome outcome;
            try
            {
                outcome = await session.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RlmModelException e)
            {
                // The root model failed for good: the caller gets the typed exception with what the run had so far.
                e.PartialResult = run.CreateResult(new SessionOutcome(string.Empty, RlmStopReason.ModelFailure, session.Iterations), trajectory, session.Iterations);
                throw;
            }

            var result = run.CreateResult(outcome, trajectory, outcome.Iterations);
            if (activity is not null)
            {
                activity.SetTag("rlm.stop_reason", result.StopReason.ToString());
                activity.SetTag("rlm.iterations", result.Statistics.Iterations);
                activity.SetTag("rlm.model_calls", result.Statistics.ModelCalls);
                activity.SetTag("rlm.sub_calls", result.Statistics.SubCalls);
                activity.SetTag("rlm.max_depth_reached", result.Statistics.MaxDepthReached);
                activity.SetTag("gen_ai.usage.input_tokens", result.Usage.InputTokenCount);
                activity.SetTag("gen_ai.usage.output_tokens", result.Usage.OutputTokenCount);
            }

            return result;
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e is OperationCanceledException ? "canceled" : SecretRedactor.Default.Redact(e.Message));
            activity?.SetTag("error.type", e is RlmModelException model ? model.Kind.ToString() : e.GetType().FullName);
            throw;
        }
    }
}
