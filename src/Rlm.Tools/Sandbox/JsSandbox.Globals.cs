using System.Diagnostics;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;
using Rlm.Tools.Context;

namespace Rlm.Tools.Sandbox;

/// <summary>The functions a script calls (<c>context</c>, <c>print</c>, <c>grep</c>, <c>lines</c>, variables, <c>llm_query</c>): each reaches the call's host only.</summary>
internal sealed partial class JsSandbox
{
    private static ClrFunction Function(Engine engine, string name, int length, Func<JsValue, JsValue[], JsValue> body) =>
        new(engine, name, body, length, PropertyFlag.Configurable);

    /// <summary><c>context</c> reads the view's text on first use, then becomes a plain (writable) global.</summary>
    private void DefineContext(Engine engine)
    {
        var global = engine.Global;
        void Replace(JsValue value) =>
            global.DefineOwnProperty("context", new PropertyDescriptor(value, PropertyFlag.Writable | PropertyFlag.Configurable));

        var getter = Function(engine, "context", 0, (_, _) =>
        {
            if (_contextText is null)
            {
                _contextText = _host.View.GetText();
                _constraint!.ExcludedBytes = (long)_contextText.Length * sizeof(char);
            }

            var value = new JsString(_contextText);
            Replace(value);
            return value;
        });
        var setter = Function(engine, "context", 1, (_, args) =>
        {
            Replace(args.At(0));
            return JsValue.Undefined;
        });
        global.DefineOwnProperty("context", new GetSetPropertyDescriptor(getter, setter, enumerable: false, configurable: true));
    }

    private JsRun Current => _run ?? throw new InvalidOperationException("A sandbox function was called outside a script run.");

    private Engine CurrentEngine => _engine ?? throw new InvalidOperationException("The sandbox has no engine.");

    private JsValue Print(JsValue thisObject, JsValue[] args)
    {
        var output = Current.Output;
        var engine = CurrentEngine;
        for (int i = 0; i < args.Length; i++)
        {
            if (i > 0)
            {
                output.Append(" ");
            }

            output.Append(Render(engine, args[i], quoteStrings: false) ?? "undefined");
        }

        output.Append("\n");
        return JsValue.Undefined;
    }

    private JsValue SetVariable(JsValue thisObject, JsValue[] args)
    {
        var engine = CurrentEngine;
        string name = NameArgument(args, "set_variable");
        var value = args.At(1);
        string? text = value.IsString() ? value.AsString() : JsGuards.TryJson(engine, value, _limits.MemoryLimitBytes);
        if (text is null)
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError,
                $"set_variable: the value of '{name}' is {(value.IsUndefined() ? "undefined" : "not representable as JSON (a function, or a cycle?)")}; pass a string or a JSON-serialisable value.");
        }

        _host.Variables.Set(name, text);
        return JsValue.Undefined;
    }

    private JsValue GetVariable(JsValue thisObject, JsValue[] args)
    {
        string name = NameArgument(args, "get_variable");
        return _host.Variables.TryGet(name, out var value) ? new JsString(value) : JsValue.Undefined;
    }

    private string NameArgument(JsValue[] args, string function)
    {
        var name = args.At(0);
        if (!name.IsString() || !s_variableName.IsMatch(name.AsString()))
        {
            var engine = CurrentEngine;
            throw new JavaScriptException(engine.Intrinsics.TypeError,
                $"{function}: the name must be a string of letters, digits and underscores, starting with a letter or underscore (at most 64 characters); got {TextLimits.Line(SafeRender(engine, name, quoteStrings: true) ?? "undefined", 80)}.");
        }

        return name.AsString();
    }

    private JsValue Grep(JsValue thisObject, JsValue[] args)
    {
        var engine = CurrentEngine;
        var patternArgument = args.At(0);
        if (patternArgument.IsUndefined() || patternArgument.IsNull())
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError, "grep: pass a pattern (a .NET regular expression, matched case-insensitively), e.g. grep('error', 100).");
        }

        string pattern = patternArgument.IsRegExp() ? patternArgument.AsRegExp().Source : TypeConverter.ToString(patternArgument);
        int max = IntegerArgument(args, 1, DefaultGrepMax, 1, MaxGrepResults);

        IReadOnlyList<GrepHit> hits;
        var run = Current;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(run.CancellationToken);
        deadline.CancelAfter(run.Remaining); // the search counts as script time: it ends with the script's time limit
        try
        {
            hits = _host.Grep(pattern, max, deadline.Token);
        }
        catch (OperationCanceledException) when (!run.CancellationToken.IsCancellationRequested)
        {
            throw JsLimitExceededException.Time(_limits);
        }
        catch (GrepTimeoutException e)
        {
            throw new JavaScriptException(engine.Intrinsics.Error, $"grep: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new JavaScriptException(JsErrors.SyntaxError(engine), $"grep: {e.Message} Use .NET regex syntax and escape special characters such as ( ) [ ] . * + ? with a backslash.");
        }

        var items = new JsValue[hits.Count];
        for (int i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            // Own data properties: a setter a script put on Object.prototype never runs.
            var item = new JsObject(engine);
            item.CreateDataProperty("line", hit.Line);
            item.CreateDataProperty("text", hit.Text);
            item.CreateDataProperty("offset", hit.Offset);
            item.CreateDataProperty("document", hit.Document is null ? JsValue.Null : new JsString(hit.Document));
            item.CreateDataProperty("document_line", hit.DocumentLine is { } line ? new JsNumber(line) : JsValue.Null);
            items[i] = item;
        }

        return new JsArray(engine, items);
    }

    private JsValue Lines(JsValue thisObject, JsValue[] args)
    {
        var view = _host.View;
        int start = IntegerArgument(args, 0, 0, 0, view.LineCount);
        int end = IntegerArgument(args, 1, view.LineCount, 0, view.LineCount);
        if (end <= start)
        {
            return JsString.Empty;
        }

        var (from, _) = view.LineBounds(start);
        var (_, to) = view.LineBounds(end - 1);
        var text = view.Span[from..to].ToString();
        if (view.Span[from..to].Contains('\r'))
        {
            text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        }

        return new JsString(text);
    }

    private JsValue LlmQuery(JsValue thisObject, JsValue[] args)
    {
        string prompt = PromptText(args.At(0), "llm_query");
        string? model = ModelOption(args.At(1), "llm_query");
        return new JsString(WaitForHost(token => _host.LlmQueryAsync(prompt, model, token), "llm_query"));
    }

    private JsValue LlmQueryBatched(JsValue thisObject, JsValue[] args)
    {
        var engine = CurrentEngine;
        var list = args.At(0);
        if (list is not JsArray array)
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError, "llm_query_batched: pass an array of prompt strings.");
        }

        uint length = array.Length;
        if (length > MaxGrepResults)
        {
            throw JsErrors.Range(engine,
                $"llm_query_batched: {length:N0} prompts is more than one call takes ({MaxGrepResults:N0}); the run's sub-call budget is far smaller anyway. Batch fewer, larger prompts.");
        }

        var prompts = new string[length];
        for (uint i = 0; i < length; i++)
        {
            prompts[i] = PromptText(array.Get(i), "llm_query_batched");
        }

        string? model = ModelOption(args.At(1), "llm_query_batched");
        IReadOnlyList<string> answers = length == 0 ? [] : WaitForHost(token => _host.LlmQueryBatchedAsync(prompts, model, token), "llm_query_batched");
        return new JsArray(engine, [.. answers.Select(a => (JsValue)new JsString(a))]);
    }

    /// <summary>The worker a script names: <c>{ model: "name" }</c> or the name itself; nothing (or no <c>model</c>) is the default worker.</summary>
    private string? ModelOption(JsValue value, string function)
    {
        if (value.IsUndefined() || value.IsNull())
        {
            return null;
        }

        var model = value is ObjectInstance options ? options.Get("model") : value;
        if (model.IsUndefined() || model.IsNull())
        {
            return null;
        }

        return model.IsString()
            ? model.AsString()
            : throw new JavaScriptException(CurrentEngine.Intrinsics.TypeError, $"{function}: model must be a worker's name (a string), as in {function}(prompt, {{ model: \"name\" }}).");
    }

    private string PromptText(JsValue value, string function)
    {
        if (value.IsString())
        {
            return value.AsString();
        }

        var engine = CurrentEngine;
        return value.IsUndefined() || value.IsNull()
            ? throw new JavaScriptException(engine.Intrinsics.TypeError, $"{function}: a prompt is {(value.IsNull() ? "null" : "undefined")}; pass text.")
            : JsGuards.TryJson(engine, value, _limits.MemoryLimitBytes) ?? TypeConverter.ToString(value);
    }

    /// <summary>
    /// Blocks the script thread (never a pool thread) on a host call. A wait on a model does not count against the time
    /// limit (see <see cref="JsRun.Remaining"/>); a call the host answers at once (a memoized answer, a refusal) does, so a
    /// loop of such calls ends at the limit. The caller's cancellation still stops it.
    /// </summary>
    private T WaitForHost<T>(Func<CancellationToken, Task<T>> call, string function)
    {
        var run = Current;
        _constraint!.Check();
        long started = Stopwatch.GetTimestamp();
        bool waited = false;
        try
        {
            var task = call(run.CancellationToken);
            waited = !task.IsCompleted;
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (run.CancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(run.CancellationToken);
        }
        catch (Exception e) when (e is not JsLimitExceededException)
        {
            throw new JavaScriptException(CurrentEngine.Intrinsics.Error, $"{function} failed: {e.Message}");
        }
        finally
        {
            if (waited)
            {
                run.ExcludeHostWait(Stopwatch.GetElapsedTime(started));
            }
        }
    }

    private static int IntegerArgument(JsValue[] args, int index, int fallback, int min, int max)
    {
        var value = args.At(index);
        if (value.IsUndefined() || value.IsNull())
        {
            return Math.Clamp(fallback, min, max);
        }

        double number = TypeConverter.ToInteger(value);
        return double.IsNaN(number) ? Math.Clamp(fallback, min, max) : (int)Math.Clamp(number, min, max);
    }
}
