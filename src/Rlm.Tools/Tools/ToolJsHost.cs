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

    public async Task<string> LlmQueryAsync(string prompt, CancellationToken cancellationToken)
    {
        context.Statistics.RecordToolCall("llm_query");
        return (await AskAsync(prompt, cancellationToken).ConfigureAwait(false)).Text;
    }

    public async Task<IReadOnlyList<string>> LlmQueryBatchedAsync(IReadOnlyList<string> prompts, CancellationToken cancellationToken)
    {
        context.Statistics.RecordToolCall("llm_query_batched");
        var results = await Task.WhenAll(prompts.Select(p => AskAsync(p, cancellationToken))).ConfigureAwait(false);
        return [.. results.Select(r => r.Text)];
    }

    private Task<SubCallResult> AskAsync(string prompt, CancellationToken cancellationToken) =>
        context.SubCalls.RunAsync(new SubCallRequest(prompt, Slice: null, context.Depth, context.TraceNode), cancellationToken);
}
