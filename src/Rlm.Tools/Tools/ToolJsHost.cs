using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Tools;

/// <summary>What one <c>exec_js</c> call's script may reach: the calling tool's view, variables and sub-call runner.</summary>
internal sealed class ToolJsHost(ToolCallContext context) : IJsHost
{
    public ContextView View => context.View;

    public VariableStore Variables => context.Variables;

    public IReadOnlyList<GrepHit> Grep(string pattern, int maxResults, CancellationToken cancellationToken) =>
        GrepSearch.Search(context.View, pattern, ignoreCase: true, context.Options.RegexTimeout, Math.Clamp(maxResults, 1, 100_000), cancellationToken).Hits;

    public async Task<string> LlmQueryAsync(string prompt, string? model, CancellationToken cancellationToken)
    {
        context.Statistics.RecordToolCall("llm_query");
        var worker = Resolve(model);
        return (await AskAsync(prompt, worker, cancellationToken).ConfigureAwait(false)).Text;
    }

    public async Task<IReadOnlyList<string>> LlmQueryBatchedAsync(IReadOnlyList<string> prompts, string? model, CancellationToken cancellationToken)
    {
        context.Statistics.RecordToolCall("llm_query_batched");
        var worker = Resolve(model);

        // Refused as a whole when its estimate is over the remaining budget: every prompt reads the same error.
        if (context.SubCalls.RefuseBatch([.. prompts.Select(p => Request(p, worker))], context.TraceNode) is { } refused)
        {
            return [.. prompts.Select(_ => "Error: " + refused)];
        }

        var results = await Task.WhenAll(prompts.Select(p => AskAsync(p, worker, cancellationToken))).ConfigureAwait(false);
        return [.. results.Select(r => r.Text)];
    }

    // An unknown name stops the script (a script error listing the names), not one "Error:" answer per prompt of a loop.
    private RlmWorker? Resolve(string? model) =>
        new WorkerChoice(model).TryResolve(context.Options.Workers, out var worker, out string? error) ? worker : throw new ArgumentException(error);

    private Task<SubCallResult> AskAsync(string prompt, RlmWorker? worker, CancellationToken cancellationToken) =>
        context.SubCalls.RunAsync(Request(prompt, worker), cancellationToken);

    private SubCallRequest Request(string prompt, RlmWorker? worker) => new(prompt, Slice: null, context.Depth, context.TraceNode, worker);
}
