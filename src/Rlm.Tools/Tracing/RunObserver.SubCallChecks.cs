using System.Globalization;

namespace Rlm.Tools;

// What the window and budget checks of sub-calls report: a split slice, a refused batch.
internal sealed partial class RunObserver
{
    /// <summary>
    /// Records a sub-call whose slice is split to fit its worker's window: counted, a node (the parts' sub-calls hang below
    /// it) and <see cref="RlmSubCallSplit"/>. The step is completed with the combined answer.
    /// </summary>
    public RunStep SubCallSplit(RlmTraceNode parent, int depth, int parts, int sliceTokens, int limit, string model)
    {
        Statistics.RecordSplitSubCall();
        var node = AddNode(parent, RlmTraceKind.Leaf, string.Create(CultureInfo.InvariantCulture, $"split sub-call (depth={depth}): {sliceTokens:N0} tokens over the limit of {limit:N0}, {parts} parts"), depth);
        Emit(new RlmSubCallSplit(Elapsed, depth, parts, sliceTokens, limit, model));
        return new RunStep(this, node, activity: null, onEnd: null);
    }

    /// <summary>Records a batch of sub-calls refused as a whole: counted, one error node under <paramref name="parent"/> and <see cref="RlmSubCallBatchRefused"/>.</summary>
    public void SubCallBatchRefused(RlmTraceNode parent, RlmSubCallBatchRefused refused, string message)
    {
        Statistics.RecordRefusedSubCallBatch();
        AddNode(parent, RlmTraceKind.ToolCall, string.Create(CultureInfo.InvariantCulture, $"batch of {refused.SubCalls} sub-calls refused (estimated {refused.EstimatedTokens:N0} tokens)"), refused.Depth)
            .Complete(Elapsed, message, isError: true);
        Emit(refused with { Elapsed = Elapsed });
    }
}
