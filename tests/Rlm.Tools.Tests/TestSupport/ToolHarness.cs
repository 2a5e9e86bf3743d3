using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.TestSupport;

/// <summary>Runs the ten tools directly over a context, with a recording sub-call runner and a real sandbox.</summary>
internal sealed class ToolHarness : ISubCallRunner
{
    public ToolHarness(string text, RlmOptions? options = null)
        : this(new ContextView(ContextText.FromString(text)), options)
    {
    }

    public ToolHarness(ContextView view, RlmOptions? options = null)
    {
        View = view;
        var o = options ?? new RlmOptions();
        Context = new ToolCallContext
        {
            View = view,
            Variables = Variables,
            Options = o,
            SubCalls = this,
            Sandbox = new JsSandbox(new JsLimits(o.JavaScriptTimeout, o.JavaScriptMaxStatements, o.JavaScriptMaxRecursionDepth, o.JavaScriptMemoryLimitBytes, o.MaxToolOutputChars)),
            TraceNode = new RlmTraceNode(RlmTraceKind.ToolCall, "test", 0, TimeSpan.Zero),
            Depth = 0,
            Statistics = new RunStatistics(),
        };
        Tools = RlmToolSet.All.ToDictionary(t => t.Name);
    }

    public ContextView View { get; }

    public VariableStore Variables { get; } = new();

    public ToolCallContext Context { get; }

    public Dictionary<string, RlmTool> Tools { get; }

    public List<(string Query, ContextView Slice)> SubCalls { get; } = [];

    public Task<ToolResult> RunAsync(string name, object args) =>
        Tools[name].RunAsync(TestChatClient.ToDictionary(args), Context, CancellationToken.None);

    Task<SubCallResult> ISubCallRunner.RunAsync(SubCallRequest request, CancellationToken cancellationToken)
    {
        lock (SubCalls)
        {
            SubCalls.Add((request.Query, request.Slice!));
        }

        return Task.FromResult(SubCallResult.Success($"answer for [{request.Slice!.Start},{request.Slice.End})"));
    }
}
