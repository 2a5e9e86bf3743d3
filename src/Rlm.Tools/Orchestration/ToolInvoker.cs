using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Runs the function calls of one session's replies: the ten built-in tools with a per-call
/// <see cref="ToolCallContext"/>, and at the root the custom tools of <see cref="RlmOptions.Tools"/>. The calls of one
/// reply run concurrently (or start as they stream in, through <see cref="PipelinedCalls"/>); results come back in call
/// order; the calls past <see cref="RlmOptions.MaxFunctionCallsPerReply"/> are not run. A tool failure is an error result the model reads, never an exception (caller cancellation excepted).
/// </summary>
internal sealed partial class ToolInvoker
{
    // Compact, and no needless escapes ('+', '<', '&', non-ASCII as themselves): the model pays for every character.
    private static readonly JsonSerializerOptions s_compactJson = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly Dictionary<string, RlmTool> s_tools = RlmToolSet.All.ToDictionary(t => t.Name, StringComparer.Ordinal);

    private readonly QueryRun _run;
    private readonly int _depth;
    private readonly ContextView _view;
    private readonly VariableStore _variables;
    private readonly JsSandbox _sandbox;
    private readonly Dictionary<string, AIFunction> _customTools;
    private readonly AnswerFormat? _answerFormat;

    public ToolInvoker(QueryRun run, int depth, ContextView view, VariableStore variables, JsSandbox sandbox)
    {
        _run = run;
        _depth = depth;
        _view = view;
        _variables = variables;
        _sandbox = sandbox;

        // Custom tools are the root model's only.
        _customTools = depth == 0
            ? run.Options.Tools.OfType<AIFunction>().ToDictionary(t => t.Name, StringComparer.Ordinal)
            : new Dictionary<string, AIFunction>(StringComparer.Ordinal);
        // A typed query's root declares final with the answer's schema.
        _answerFormat = depth == 0 ? run.AnswerFormat : null;
        Declarations =
        [
            .. ToolDeclarations.WithWorkers(RlmToolSet.All, run.Options.Workers).Select(t => t.Name == RlmToolSet.Final && _answerFormat is { } format ? (AITool)format.FinalDeclaration : t),
            .. (depth == 0 ? run.Options.Tools.Select(static t => t is AIFunction f ? f.AsDeclarationOnly() : t) : []),
        ];
    }

    /// <summary>
    /// Gets the tools as the model sees them. Declarations only: a <c>FunctionInvokingChatClient</c> anywhere in the user's
    /// pipeline passes the calls back to the engine instead of running them itself (M.E.AI never invokes a declaration).
    /// </summary>
    public IList<AITool> Declarations { get; }

    /// <summary>
    /// Runs the calls of one reply concurrently; results in call order. Only the first
    /// <see cref="RlmOptions.MaxFunctionCallsPerReply"/> run; each later one gets <see cref="Refuse"/>'s error result.
    /// </summary>
    public async Task<ToolResult[]> RunAllAsync(List<FunctionCallContent> calls, RlmTraceNode modelNode, CancellationToken cancellationToken)
    {
        int cap = MaxCallsPerReply;
        if (calls.Count == 1)
        {
            return [await RunAsync(calls[0], modelNode, cancellationToken).ConfigureAwait(false)];
        }

        var running = calls.Count > cap ? calls.GetRange(0, cap) : calls;
        AnnounceParallel(running);
        var refusal = RefuseSubCallBatch(running, modelNode);

        // Task.Run so that tools which complete synchronously (grep over a large view) still overlap.
        var tasks = running.Select(call => Task.Run(() => RunAsync(call, modelNode, cancellationToken, RefusalFor(call, refusal)), cancellationToken)).ToArray();
        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        if (calls.Count <= cap)
        {
            return results;
        }

        ReportRefused(modelNode, calls.Count - cap);
        return [.. results, .. Enumerable.Repeat(Refuse(), calls.Count - cap)];
    }

    /// <summary>Gets how many calls of one reply run (<see cref="RlmOptions.MaxFunctionCallsPerReply"/>).</summary>
    public int MaxCallsPerReply => _run.Options.MaxFunctionCallsPerReply;

    /// <summary>The result of a call past <see cref="MaxCallsPerReply"/>: not run, one short error (a reply may hold very many).</summary>
    public ToolResult Refuse() =>
        ToolResult.Error($"not run: a reply may make at most {MaxCallsPerReply} function calls and this one made more. Send fewer calls per reply (batch the work in exec_js, or use chunk and llm_query_batched).");

    /// <summary>Counts and records the calls of one reply that were refused.</summary>
    public void ReportRefused(RlmTraceNode modelNode, int refused)
    {
        if (refused > 0)
        {
            _run.Observer.FunctionCallsRefused(modelNode, _depth, refused, MaxCallsPerReply);
        }
    }

    /// <summary>Starts the calls of a streamed reply as they arrive (see <see cref="PipelinedCalls"/>).</summary>
    public PipelinedCalls StartPipeline(RlmTraceNode modelNode, CancellationToken cancellationToken) => new(this, modelNode, cancellationToken);

    /// <summary>Tells listeners that several calls of one reply run at once.</summary>
    public void AnnounceParallel(List<FunctionCallContent> calls) =>
        _run.Observer.Emit(new RlmParallelCalls(_run.Observer.Elapsed, _depth, [.. calls.Select(c => IsDeclared(c.Name) ? c.Name! : RunObserver.UnknownToolName)]));

    /// <summary>Whether <paramref name="name"/> is one of the tools this session's model was given.</summary>
    private bool IsDeclared(string? name) => name is not null && (s_tools.ContainsKey(name) || _customTools.ContainsKey(name));

    /// <summary>
    /// Gets whether the <c>sub_llm</c> calls of a streamed reply wait for the whole reply before they start: with a token or
    /// cost budget, so that they can be checked as one batch (<see cref="RefuseSubCallBatch"/>).
    /// </summary>
    public bool HoldsSubCalls => _run.Options.MaxTotalTokens is not null || _run.Options.MaxCostUsd is not null;

    /// <summary>Whether a call is a <c>sub_llm</c> (one sub-call of a reply's batch).</summary>
    public static bool IsSubCall(FunctionCallContent call) => call.Name == RlmToolSet.SubLlm;

    /// <summary>
    /// Checks the <c>sub_llm</c> calls among one reply's <paramref name="calls"/> as one batch (<see cref="SubCallBatch"/>):
    /// the error result each of them gets when the batch is refused, or <see langword="null"/>.
    /// </summary>
    public ToolResult? RefuseSubCallBatch(IEnumerable<FunctionCallContent> calls, RlmTraceNode modelNode) =>
        _run.SubCalls.RefuseBatch(SubCallBatch.FromCalls(calls, _view, _depth, _run.Options, modelNode), modelNode) is { } error
            ? ToolResult.Error("sub_llm " + error)
            : null;

    /// <summary>The refusal a call gets: the batch's, when it is a <c>sub_llm</c>.</summary>
    public static ToolResult? RefusalFor(FunctionCallContent call, ToolResult? refusal) => refusal is not null && IsSubCall(call) ? refusal : null;

    /// <summary>Runs one call, observed as one step; with <paramref name="refused"/>, the call is not run and gets that result.</summary>
    public async Task<ToolResult> RunAsync(FunctionCallContent call, RlmTraceNode modelNode, CancellationToken cancellationToken, ToolResult? refused = null)
    {
        string name = call.Name ?? string.Empty;
        using var step = _run.Observer.ToolCall(modelNode, _depth, call, declared: IsDeclared(call.Name));
        ToolResult result;
        if (refused is not null)
        {
            result = refused;
        }
        else if (call.Exception is not null)
        {
            result = ToolResult.Error($"the arguments of {name} could not be read ({TextLimits.OneLine(_run.Observer.Redactor.Redact(call.Exception.Message), 300)}). Send the arguments as a JSON object.");
        }
        else if (_customTools.TryGetValue(name, out var custom))
        {
            result = await RunCustomAsync(custom, call, cancellationToken).ConfigureAwait(false);
        }
        else if (!s_tools.TryGetValue(name, out var tool))
        {
            result = ToolResult.Error($"unknown tool '{TextLimits.Line(name, 60)}'. The tools are: {string.Join(", ", s_tools.Keys.Concat(_customTools.Keys))}.");
        }
        else
        {
            var context = new ToolCallContext
            {
                View = _view,
                Variables = _variables,
                Options = _run.Options,
                SubCalls = _run.SubCalls,
                Sandbox = _sandbox,
                TraceNode = step.Node,
                Depth = _depth,
                Statistics = _run.Observer.Statistics,
            };
            try
            {
                result = _answerFormat is not null && name == RlmToolSet.Final
                    ? _answerFormat.Final(call.Arguments, _run.Options.MaxToolOutputChars)
                    : await tool.RunAsync(call.Arguments, context, cancellationToken).ConfigureAwait(false);
                if (_answerFormat is not null)
                {
                    result = _answerFormat.Check(result, name, _run.Observer.Statistics);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                result = ToolResult.Error($"{name} failed: {_run.Observer.Redactor.Redact(e.Message)}");
            }
        }

        step.Complete(result.Text, result.IsError);
        return result;
    }

    /// <summary>
    /// Writes the escaped surrogate pairs (emoji and other characters past U+FFFF, which every built-in
    /// <see cref="System.Text.Encodings.Web.JavaScriptEncoder"/> escapes) as the characters themselves: still valid JSON,
    /// 12 characters fewer each. A <c>\\u</c> after an escaped backslash is literal text and stays.
    /// </summary>
    private static string Unescape(string json) =>
        json.Contains("\\uD", StringComparison.OrdinalIgnoreCase)
            ? EscapedSurrogatePair().Replace(json, m => m.Groups[1].Value + (char)Convert.ToInt32(m.Groups[2].Value, 16) + (char)Convert.ToInt32(m.Groups[3].Value, 16))
            : json;

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<!\\)((?:\\\\)*)\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex EscapedSurrogatePair();

    /// <summary>
    /// Runs a custom tool (<see cref="RlmOptions.Tools"/>) with the host's services (<see cref="RlmOptions.Services"/>): its
    /// value as text (JSON without needless escapes), capped; an exception as an error result.
    /// </summary>
    private async Task<ToolResult> RunCustomAsync(AIFunction function, FunctionCallContent call, CancellationToken cancellationToken)
    {
        try
        {
            object? value = await function.InvokeAsync(new AIFunctionArguments(call.Arguments) { Services = _run.Options.Services }, cancellationToken).ConfigureAwait(false);
            string text = value switch
            {
                null => "null",
                string s => s,
                JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? "",
                JsonElement e => Unescape(JsonSerializer.Serialize(e, s_compactJson)),
                _ => Unescape(JsonSerializer.Serialize(JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())), s_compactJson)),
            };
            return new ToolResult(TextLimits.Cap(text, _run.Options.MaxToolOutputChars));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return ToolResult.Error($"{function.Name} failed: {TextLimits.OneLine(_run.Observer.Redactor.Redact(e.Message), 500)}");
        }
    }
}
