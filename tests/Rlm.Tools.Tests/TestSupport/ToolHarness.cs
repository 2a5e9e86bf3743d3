using Rlm.Tools.Context;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.TestSupport;

/// <summary>Runs the ten tools directly over a context, with recording fakes for sub-calls and JavaScript.</summary>
internal sealed class ToolHarness
{
    public ToolHarness(string text, RlmOptions? options = null)
        : this(new ContextView(ContextText.FromString(text)), options)
    {
    }

    public ToolHarness(ContextView view, RlmOptions? options = null)
    {
        View = view;
        Context = new ToolContext
        {
            View = view,
            Variables = Variables,
            Options = options ?? new RlmOptions(),
            SubCall = (query, slice, ct) =>
            {
                lock (SubCalls)
                {
                    SubCalls.Add((query, slice));
                }

                return Task.FromResult(new ToolResult($"answer for [{slice.Start},{slice.End})"));
            },
            ExecuteJavaScript = (code, ct) => Task.FromResult(new ToolResult("js:" + code)),
        };
        Tools = RlmToolSet.Create(Context).ToDictionary(t => t.Name);
    }

    public ContextView View { get; }

    public VariableStore Variables { get; } = new();

    public ToolContext Context { get; }

    public Dictionary<string, RlmTool> Tools { get; }

    public List<(string Query, ContextView Slice)> SubCalls { get; } = [];

    public Task<ToolResult> RunAsync(string name, object args) =>
        Tools[name].RunAsync(TestChatClient.ToDictionary(args), CancellationToken.None);
}
