using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// The calls of one streamed root reply. The stream reader hands each <see cref="FunctionCallContent"/> over as it
/// arrives (<see cref="Start"/>); a pump running in the session's own flow (so its activity and logging scopes apply)
/// starts it at once on the thread pool through the same <see cref="ToolInvoker.RunAsync"/> as the non-streaming path,
/// so sub-call fan-out, the sandbox and every limit apply alike. <see cref="FinishAsync"/> starts any call the stream did
/// not hand over (a client that sends its calls only at the end, or does not stream) and returns the results in call order.
/// Only the first <see cref="ToolInvoker.MaxCallsPerReply"/> calls to arrive start; the rest get an error result. Under a
/// token or cost budget the <c>sub_llm</c> calls are held until the reply is whole, so they are checked as one batch.
/// </summary>
internal sealed class PipelinedCalls
{
    private readonly ToolInvoker _invoker;
    private readonly RlmTraceNode _modelNode;
    private readonly CancellationToken _cancellationToken;
    private readonly Channel<FunctionCallContent> _arrived = Channel.CreateUnbounded<FunctionCallContent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<FunctionCallContent, Task<ToolResult>> _running = new(ReferenceEqualityComparer.Instance);
    private readonly Task _pump;
    private int _handedOver;
    private int _refused;

    public PipelinedCalls(ToolInvoker invoker, RlmTraceNode modelNode, CancellationToken cancellationToken)
    {
        _invoker = invoker;
        _modelNode = modelNode;
        _cancellationToken = cancellationToken;
        _pump = PumpAsync();
    }

    /// <summary>Gets how many calls the stream has handed over.</summary>
    public int Started => Volatile.Read(ref _handedOver);

    /// <summary>Hands a call over to be started now (called by the stream reader; returns at once).</summary>
    public void Start(FunctionCallContent call)
    {
        Interlocked.Increment(ref _handedOver);
        _arrived.Writer.TryWrite(call);
    }

    /// <summary>Says that the reply is over (whether it arrived, failed or was canceled): no call is handed over after this.</summary>
    public void EndOfReply() => _arrived.Writer.TryComplete();

    /// <summary>Starts the calls of the assembled reply that have not started and waits for all; results in call order.</summary>
    public async Task<ToolResult[]> FinishAsync(List<FunctionCallContent> calls)
    {
        EndOfReply();
        await _pump.ConfigureAwait(false);

        // The held sub_llm calls (and any the stream did not hand over) start now, after the check of the reply's batch.
        int room = Math.Max(0, _invoker.MaxCallsPerReply - (_running.Count - _refused));
        var refusal = _invoker.RefuseSubCallBatch(calls.Where(c => !_running.ContainsKey(c)).Take(room), _modelNode);
        foreach (var call in calls)
        {
            Run(call, ToolInvoker.RefusalFor(call, refusal));
        }

        if (_running.Count - _refused > 1)
        {
            _invoker.AnnounceParallel(calls.Count > _invoker.MaxCallsPerReply ? calls.GetRange(0, _invoker.MaxCallsPerReply) : calls);
        }

        _invoker.ReportRefused(_modelNode, _refused);
        return await Task.WhenAll(calls.Select(c => _running[c])).ConfigureAwait(false);
    }

    /// <summary>Waits for the started calls to end, whatever their outcome (the reply itself failed or was canceled).</summary>
    public async Task SettleAsync()
    {
        EndOfReply();
        await _pump.ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running.Values).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Their outcome is moot: the reply's own exception is what the caller gets.
        }
    }

    private async Task PumpAsync()
    {
        await foreach (var call in _arrived.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            // Under a token or cost budget a sub_llm waits for the end of the reply, to be checked with the others as a batch.
            if (!(_invoker.HoldsSubCalls && ToolInvoker.IsSubCall(call)))
            {
                Run(call);
            }
        }
    }

    // Only the pump, then (after it ended) FinishAsync, touch _running: no lock is needed.
    private void Run(FunctionCallContent call, ToolResult? refused = null)
    {
        if (_running.ContainsKey(call))
        {
            return;
        }

        if (_running.Count - _refused >= _invoker.MaxCallsPerReply)
        {
            _refused++;
            _running[call] = Task.FromResult(_invoker.Refuse());
        }
        else
        {
            // Task.Run: a tool that completes synchronously (grep over a large view) must not hold up the next call.
            _running[call] = Task.Run(() => _invoker.RunAsync(call, _modelNode, _cancellationToken, refused), _cancellationToken);
        }
    }
}
