using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Jint;
using Jint.Native;
using Jint.Native.Json;
using Jint.Native.Object;
using Jint.Parser;
using Jint.Runtime;
using Rlm.Tools.Tools;
using static Rlm.Tools.Sandbox.JsBuiltins;
using JintExecutionContext = Jint.Runtime.Environments.ExecutionContext;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// A JavaScript REPL over a session (Jint 2.10.4, ES5.1): one engine, created on first use, whose globals persist
/// across <see cref="ExecuteAsync"/> calls. Every Jint type stays inside this folder.
/// </summary>
/// <remarks>
/// <para><b>Globals.</b> <c>context</c> (the view's text, read once on first use), <c>print(...)</c> and
/// <c>console.log/info/warn/error(...)</c> (arguments joined by a space, objects as JSON, one line per call),
/// <c>grep(pattern, max = 1000)</c> → <c>[{line, text, offset, document, document_line}]</c>, <c>lines(start, end)</c>
/// → the text of view lines <c>[start, end)</c> (0-based, clamped; <c>end</c> defaults to the last line) joined by
/// <c>\n</c>, <c>set_variable(name, value)</c> (non-strings stored as JSON), <c>get_variable(name)</c> (the text, or
/// <c>undefined</c> for an unknown name), <c>llm_query(prompt)</c> → string and <c>llm_query_batched(prompts)</c> →
/// strings in prompt order. No CLR, modules, file system or network; <c>eval</c> and the <c>Function</c> constructor
/// throw, and <c>Array.prototype.join</c> is replaced (see <see cref="JsBuiltins"/>).</para>
/// <para><b>Limits</b> (<see cref="JsLimits"/>): script time (the tick's check at every loop iteration and function entry;
/// not Jint's <c>TimeoutInterval</c>, a wall clock that would count waits on the host, which do not count here), statements (Jint's <c>MaxStatements</c>,
/// plus one per function call and <c>for-in</c> iteration for the tick), recursion (Jint's <c>LimitRecursion</c>, which
/// counts nesting of the same function, plus a stack-room check for recursion Jint does not count), memory (see
/// <see cref="JsRun"/>). A limit stops the script with an error; the engine stays and keeps every global (Jint's
/// execution-context stack, which an abort can leave unbalanced, is repaired before the next call). A built-in call
/// runs in C# and is not interrupted: the checks run between statements, loop iterations and function calls.</para>
/// <para><b>Threads.</b> Each call runs on its own thread with a large stack (Jint 2 interprets recursively), so
/// <c>llm_query</c> blocks that thread and never a thread-pool thread. Calls take turns. Cancelling the caller's token
/// ends the call at once with <see cref="OperationCanceledException"/>; the script stops at its next check and the next
/// call waits for it.</para>
/// </remarks>
internal sealed class JsSandbox : IDisposable
{
    /// <summary>The hint every syntax error carries: models reach for ES2015+ syntax.</summary>
    public const string Es5Hint = "exec_js runs ES5.1 (Jint 2): use var and function, not let/const/arrow functions/template literals/classes";

    /// <summary>Longest script accepted (characters).</summary>
    public const int MaxCodeChars = 1_000_000;

    private const int DefaultGrepMax = 1_000;
    private const int MaxGrepResults = 100_000;
    private const int MaxSnippetChars = 160;

    private static readonly Regex s_variableName = new("^[A-Za-z_][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant);

    // Names whose absence is an ES2015+ feature (or a module system) rather than a typo.
    private static readonly HashSet<string> s_modernMethods = new(StringComparer.Ordinal)
    {
        "repeat", "includes", "startsWith", "endsWith", "padStart", "padEnd", "trimStart", "trimEnd", "codePointAt",
        "normalize", "find", "findIndex", "findLast", "findLastIndex", "fill", "flat", "flatMap", "entries", "values",
        "at", "from", "of", "assign", "replaceAll", "matchAll", "fromEntries", "copyWithin",
    };

    private static readonly HashSet<string> s_modernGlobals = new(StringComparer.Ordinal)
    {
        "Map", "Set", "WeakMap", "WeakSet", "Symbol", "Promise", "Proxy", "Reflect", "BigInt", "globalThis",
        "Uint8Array", "Int32Array", "Float64Array", "ArrayBuffer", "structuredClone", "setTimeout", "setInterval",
        "fetch", "require", "process", "module", "exports", "importNamespace", "System",
    };

    private readonly IJsHost _host;
    private readonly JsLimits _limits;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();

    // Touched only by the script thread that holds _gate.
    private Engine? _engine;
    private JintExecutionContext? _globalContext;
    private JsValue? _globalThis;
    private JsValue? _tick;
    private JsRun? _run;
    private string? _contextText;

    public JsSandbox(IJsHost host, JsLimits limits)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(limits);
        _host = host;
        _limits = limits;
    }

    /// <summary>
    /// Runs <paramref name="code"/> in the sandbox. Script failures (syntax, uncaught errors, limits) come back in
    /// <see cref="JsExecutionResult.Error"/>; only cancellation of <paramref name="cancellationToken"/> throws.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The sandbox is disposed.</exception>
    public async Task<JsExecutionResult> ExecuteAsync(string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(code);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (code.Length > MaxCodeChars)
        {
            return new JsExecutionResult("", null, string.Create(CultureInfo.InvariantCulture, $"the code is {code.Length:N0} characters long; exec_js takes at most {MaxCodeChars:N0}. Read data from context instead of pasting it into the code."), false);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);

        var completion = new TaskCompletionSource<JsExecutionResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (StartScriptThread(() => RunOnScriptThread(code, cancellationToken, completion), StackBytes(code)) is { } failure)
        {
            _gate.Release();
            return new JsExecutionResult("", null, $"the script thread could not start: {failure.Message}", false);
        }

        // Return as soon as the caller cancels; the script thread stops at its next check and releases the gate.
        return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The script thread's stack, reserved rather than committed. Jint 2 parses and interprets recursively and a stack
    /// overflow ends the process, so: room for the parser's worst case (a few hundred bytes of stack per character of
    /// deeply nested code), for the interpreter (bounded by <see cref="JsInstrumenter.MaxDepth"/>), and for JavaScript
    /// calls well past the recursion limit, so the stack-room check in the tick fires long before the end.
    /// </summary>
    private int StackBytes(string code)
    {
        long bytes = (16L << 20) + (code.Length * 512L) + (Math.Max(1L, _limits.MaxRecursionDepth) * (64L << 10));
        return (int)Math.Min(bytes, 1L << 30);
    }

    /// <summary>Starts the script thread, falling back to the default stack size when the large one cannot be reserved.</summary>
    private static Exception? StartScriptThread(ThreadStart body, int stackBytes)
    {
        try
        {
            new Thread(body, stackBytes) { IsBackground = true, Name = "exec_js" }.Start();
            return null;
        }
        catch (OutOfMemoryException)
        {
            try
            {
                new Thread(body) { IsBackground = true, Name = "exec_js" }.Start();
                return null;
            }
            catch (OutOfMemoryException e)
            {
                return e;
            }
        }
    }

    /// <summary>Stops a running script at its next check and refuses further calls.</summary>
    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
        }
    }

    private void RunOnScriptThread(string code, CancellationToken cancellationToken, TaskCompletionSource<JsExecutionResult> completion)
    {
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
            completion.TrySetResult(Run(code, linked.Token));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            completion.TrySetCanceled(cancellationToken);
        }
        catch (Exception e)
        {
            // Run catches script failures; this is the sandbox's own fault. Report it rather than crash the thread.
            completion.TrySetResult(new JsExecutionResult("", null, $"internal sandbox error: {e.GetType().Name}: {e.Message}", false));
        }
        finally
        {
            _gate.Release();
        }
    }

    private JsExecutionResult Run(string code, CancellationToken cancellationToken)
    {
        var run = new JsRun(_limits, cancellationToken);
        string? value = null;
        string? error = null;
        _run = run;
        try
        {
            var engine = EnsureEngine();
            var program = new JavaScriptParser().Parse(code);
            JsInstrumenter.Instrument(program, _tick!);
            engine.Execute(program);
            value = Render(engine.GetCompletionValue(), quoteStrings: false);
            if (value is not null)
            {
                value = TextLimits.Cap(value, _limits.MaxOutputChars);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (_disposed.IsCancellationRequested)
            {
                error = "the sandbox was disposed while the script ran.";
            }
            else
            {
                throw;
            }
        }
        catch (Exception e)
        {
            error = Describe(e, code);
        }
        finally
        {
            _run = null;

            // Cheap, and needed after any exception that left Jint mid-statement (limits, cancellation, CLR errors).
            RepairEngine();
        }

        return new JsExecutionResult(run.Output.ToString(), error is null ? value : null, error, run.Output.Truncated);
    }

    private string Describe(Exception e, string code) => e switch
    {
        ParserException p => $"SyntaxError: {p.Description} (line {p.LineNumber}, column {p.Column}). {Es5Hint}.",
        JsCodeTooDeepException => $"SyntaxError: {e.Message}",
        JavaScriptException j => DescribeJavaScriptError(j, code),
        JsLimitExceededException => e.Message,
        RegexMatchTimeoutException => JsLimitExceededException.Time(_limits).Message + " A regular expression match ran that long: avoid nested quantifiers like (a+)+.",
        TimeoutException => JsLimitExceededException.Time(_limits).Message,
        StatementsCountOverflowException => JsLimitExceededException.Statements(_limits).Message,
        RecursionDepthOverflowException or InsufficientExecutionStackException => JsLimitExceededException.Recursion(_limits).Message,
        OutOfMemoryException => JsLimitExceededException.Memory(_limits).Message,

        // Jint 2 cannot report a thrown object without a string message: building its exception fails.
        ArgumentException { Message: "The value is not a string" } =>
            "Uncaught exception: the script threw an object that is not an Error (Jint 2 cannot show it); throw new Error(message) instead.",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private string DescribeJavaScriptError(JavaScriptException e, string code)
    {
        var thrown = e.Error;
        string text;
        string? hint = null;
        if (thrown.IsObject() && thrown.AsObject().Class == "Error")
        {
            var error = thrown.AsObject();
            string name = SafeToString(error.Get("name")) ?? "Error";
            string message = SafeToString(error.Get("message")) ?? "";
            text = message.Length == 0 ? name : $"{name}: {message}";
            hint = ModernFeatureHint(name, message);
        }
        else
        {
            text = "Uncaught " + (Render(thrown, quoteStrings: true) ?? "undefined");
        }

        var builder = new StringBuilder(text);
        if (e.LineNumber > 0)
        {
            builder.Append(CultureInfo.InvariantCulture, $" (line {e.LineNumber}");
            if (SourceLine(code, e.LineNumber) is { Length: > 0 } line)
            {
                builder.Append(": ").Append(TextLimits.Line(line, MaxSnippetChars));
            }

            builder.Append(')');
        }

        if (hint is not null)
        {
            builder.Append(". ").Append(hint);
        }

        return builder.ToString();
    }

    private static string? ModernFeatureHint(string name, string message)
    {
        string? missing = null;
        if (name == "TypeError" && message.StartsWith("Object has no method '", StringComparison.Ordinal) && message.EndsWith('\''))
        {
            string method = message["Object has no method '".Length..^1];
            missing = s_modernMethods.Contains(method) ? method : null;
        }
        else if (name == "ReferenceError" && message.EndsWith(" is not defined", StringComparison.Ordinal))
        {
            string global = message[..^" is not defined".Length];
            missing = s_modernGlobals.Contains(global) ? global : null;
        }

        return missing is null
            ? null
            : $"{missing} is not available: exec_js runs ES5.1 (Jint 2) with only the sandbox's globals (no modules, CLR, file system or network)";
    }

    private static string? SourceLine(string code, int line)
    {
        int start = 0;
        for (int i = 1; i < line; i++)
        {
            int next = code.IndexOf('\n', start);
            if (next < 0)
            {
                return null;
            }

            start = next + 1;
        }

        int end = code.IndexOf('\n', start);
        return code[start..(end < 0 ? code.Length : end)].Trim();
    }

    private Engine EnsureEngine()
    {
        if (_engine is not null)
        {
            return _engine;
        }

        var engine = new Engine(options => options
            .MaxStatements(_limits.MaxStatements)
            .LimitRecursion(_limits.MaxRecursionDepth)
            .Culture(CultureInfo.InvariantCulture)
            .LocalTimeZone(TimeZoneInfo.Utc));

        _tick = Function(engine, "tick", 0, (_, _) =>
        {
            _run?.Tick();
            return JsValue.True;
        });

        var global = engine.Global;
        Define(global, "print", Function(engine, "print", 1, Print));
        var console = engine.Object.Construct(Arguments.Empty);
        foreach (var name in new[] { "log", "info", "warn", "error", "debug" })
        {
            Define(console, name, Function(engine, name, 1, Print));
        }

        Define(global, "console", new JsValue(console));
        Define(global, "set_variable", Function(engine, "set_variable", 2, SetVariable));
        Define(global, "get_variable", Function(engine, "get_variable", 1, GetVariable));
        Define(global, "grep", Function(engine, "grep", 2, Grep));
        Define(global, "lines", Function(engine, "lines", 2, Lines));
        Define(global, "llm_query", Function(engine, "llm_query", 1, LlmQuery));
        Define(global, "llm_query_batched", Function(engine, "llm_query_batched", 1, LlmQueryBatched));
        DefineContext(engine);
        JsBuiltins.Install(engine, () => _run, _limits);

        _engine = engine;
        _globalContext = engine.ExecutionContext;
        _globalThis = _globalContext.ThisBinding;
        return engine;
    }

    /// <summary><c>context</c> reads the view's text on first use, then becomes a plain (writable) global.</summary>
    private void DefineContext(Engine engine)
    {
        var global = engine.Global;
        void Replace(JsValue value) =>
            global.DefineOwnProperty("context", new Jint.Runtime.Descriptors.PropertyDescriptor(value, true, false, true), false);

        var getter = Function(engine, "context", 0, (_, _) =>
        {
            var value = new JsValue(_contextText ??= _host.View.GetText());
            Replace(value);
            return value;
        });
        var setter = Function(engine, "context", 1, (_, args) =>
        {
            Replace(Arguments.At(args, 0));
            return JsValue.Undefined;
        });
        global.DefineOwnProperty("context", new Jint.Runtime.Descriptors.PropertyDescriptor(getter, setter, false, true), false);
    }

    /// <summary>After a script was stopped mid-flight: pop its execution contexts and restore the global scope.</summary>
    private void RepairEngine()
    {
        var engine = _engine;
        if (engine is null || _globalContext is null)
        {
            return;
        }

        try
        {
            while (!ReferenceEquals(engine.ExecutionContext, _globalContext))
            {
                engine.LeaveExecutionContext();
            }

            // catch and with blocks swap the lexical environment in place, without finally.
            _globalContext.LexicalEnvironment = engine.GlobalEnvironment;
            _globalContext.VariableEnvironment = engine.GlobalEnvironment;
            _globalContext.ThisBinding = _globalThis!;
            engine.ResetCallStack();
        }
        catch (InvalidOperationException)
        {
            // The context stack emptied without meeting the global context: start over (globals are lost).
            _engine = null;
            _globalContext = null;
        }
    }

    private JsRun Current => _run ?? throw new InvalidOperationException("A sandbox function was called outside a script run.");

    private Engine CurrentEngine => _engine ?? throw new InvalidOperationException("The sandbox has no engine.");

    private JsValue Print(JsValue thisObject, JsValue[] args)
    {
        var output = Current.Output;
        for (int i = 0; i < args.Length; i++)
        {
            if (i > 0)
            {
                output.Append(" ");
            }

            output.Append(Render(args[i], quoteStrings: false) ?? "undefined");
        }

        output.Append("\n");
        return JsValue.Undefined;
    }

    private JsValue SetVariable(JsValue thisObject, JsValue[] args)
    {
        string name = NameArgument(args, "set_variable");
        var value = Arguments.At(args, 1);
        string? text = value.IsString() ? value.AsString() : Json(value);
        if (text is null)
        {
            throw new JavaScriptException(CurrentEngine.TypeError,
                $"set_variable: the value of '{name}' is {(value.IsUndefined() ? "undefined" : "not representable as JSON (a function?)")}; pass a string or a JSON-serialisable value.");
        }

        _host.Variables.Set(name, text);
        return JsValue.Undefined;
    }

    private JsValue GetVariable(JsValue thisObject, JsValue[] args)
    {
        string name = NameArgument(args, "get_variable");
        return _host.Variables.TryGet(name, out var value) ? new JsValue(value) : JsValue.Undefined;
    }

    private string NameArgument(JsValue[] args, string function)
    {
        var name = Arguments.At(args, 0);
        if (!name.IsString() || !s_variableName.IsMatch(name.AsString()))
        {
            throw new JavaScriptException(CurrentEngine.TypeError,
                $"{function}: the name must be a string of letters, digits and underscores, starting with a letter or underscore (at most 64 characters); got {TextLimits.Line(Render(name, quoteStrings: true) ?? "undefined", 80)}.");
        }

        return name.AsString();
    }

    private JsValue Grep(JsValue thisObject, JsValue[] args)
    {
        var engine = CurrentEngine;
        var patternArgument = Arguments.At(args, 0);
        if (patternArgument.IsUndefined() || patternArgument.IsNull())
        {
            throw new JavaScriptException(engine.TypeError, "grep: pass a pattern (a .NET regular expression, matched case-insensitively), e.g. grep('error', 100).");
        }

        string pattern = patternArgument.IsRegExp() ? patternArgument.AsRegExp().Source : TypeConverter.ToString(patternArgument);
        int max = IntegerArgument(args, 1, DefaultGrepMax, 1, MaxGrepResults);

        IReadOnlyList<GrepHit> hits;
        try
        {
            hits = _host.Grep(pattern, max);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new JavaScriptException(engine.Error, "grep: the pattern took too long (catastrophic backtracking?); avoid nested quantifiers like (a+)+ and prefer literal text.");
        }
        catch (ArgumentException e)
        {
            throw new JavaScriptException(engine.SyntaxError, $"grep: {e.Message} Use .NET regex syntax and escape special characters such as ( ) [ ] . * + ? with a backslash.");
        }

        var result = engine.Array.Construct(Arguments.Empty);
        for (int i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            var item = engine.Object.Construct(Arguments.Empty);
            item.Put("line", new JsValue(hit.Line), false);
            item.Put("text", new JsValue(hit.Text), false);
            item.Put("offset", new JsValue(hit.Offset), false);
            item.Put("document", hit.Document is null ? JsValue.Null : new JsValue(hit.Document), false);
            item.Put("document_line", hit.DocumentLine is { } line ? new JsValue(line) : JsValue.Null, false);
            result.Put(i.ToString(CultureInfo.InvariantCulture), new JsValue(item), false);
        }

        return new JsValue(result);
    }

    private JsValue Lines(JsValue thisObject, JsValue[] args)
    {
        var view = _host.View;
        int start = IntegerArgument(args, 0, 0, 0, view.LineCount);
        int end = IntegerArgument(args, 1, view.LineCount, 0, view.LineCount);
        if (end <= start)
        {
            return new JsValue("");
        }

        var text = new StringBuilder();
        for (int line = start; line < end; line++)
        {
            if (line > start)
            {
                text.Append('\n');
            }

            text.Append(view.Line(line));
        }

        return new JsValue(text.ToString());
    }

    private JsValue LlmQuery(JsValue thisObject, JsValue[] args)
    {
        string prompt = PromptText(Arguments.At(args, 0), "llm_query");
        return new JsValue(WaitForHost(token => _host.LlmQueryAsync(prompt, token), "llm_query"));
    }

    private JsValue LlmQueryBatched(JsValue thisObject, JsValue[] args)
    {
        var engine = CurrentEngine;
        var list = Arguments.At(args, 0);
        if (!list.IsArray())
        {
            throw new JavaScriptException(engine.TypeError, "llm_query_batched: pass an array of prompt strings.");
        }

        var array = list.AsArray();
        uint length = TypeConverter.ToUint32(array.Get("length"));
        var prompts = new string[length];
        for (uint i = 0; i < length; i++)
        {
            prompts[i] = PromptText(array.Get(i.ToString(CultureInfo.InvariantCulture)), "llm_query_batched");
        }

        IReadOnlyList<string> answers = length == 0 ? [] : WaitForHost(token => _host.LlmQueryBatchedAsync(prompts, token), "llm_query_batched");
        var result = engine.Array.Construct(Arguments.Empty);
        for (int i = 0; i < answers.Count; i++)
        {
            result.Put(i.ToString(CultureInfo.InvariantCulture), new JsValue(answers[i]), false);
        }

        return new JsValue(result);
    }

    private string PromptText(JsValue value, string function)
    {
        if (value.IsString())
        {
            return value.AsString();
        }

        return value.IsUndefined() || value.IsNull()
            ? throw new JavaScriptException(CurrentEngine.TypeError, $"{function}: a prompt is {(value.IsNull() ? "null" : "undefined")}; pass text.")
            : Render(value, quoteStrings: false) ?? "";
    }

    /// <summary>
    /// Blocks the script thread (never a pool thread) on a host call. The wait does not count against the time limit
    /// (see <see cref="JsRun.Remaining"/>); the caller's cancellation still stops it.
    /// </summary>
    private T WaitForHost<T>(Func<CancellationToken, Task<T>> call, string function)
    {
        var run = Current;
        run.Tick();
        long started = Stopwatch.GetTimestamp();
        try
        {
            return call(run.CancellationToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (run.CancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(run.CancellationToken);
        }
        catch (Exception e) when (e is not JsLimitExceededException)
        {
            throw new JavaScriptException(CurrentEngine.Error, $"{function} failed: {e.Message}");
        }
        finally
        {
            run.ExcludeHostWait(Stopwatch.GetElapsedTime(started));
        }
    }

    private static int IntegerArgument(JsValue[] args, int index, int fallback, int min, int max)
    {
        var value = Arguments.At(args, index);
        if (value.IsUndefined() || value.IsNull())
        {
            return Math.Clamp(fallback, min, max);
        }

        double number = TypeConverter.ToInteger(value);
        return double.IsNaN(number) ? Math.Clamp(fallback, min, max) : (int)Math.Clamp(number, min, max);
    }

    /// <summary>Text of a value for output: strings as they are (or JSON-quoted), objects as JSON, <see langword="null"/> for undefined.</summary>
    private string? Render(JsValue value, bool quoteStrings)
    {
        if (value.IsUndefined())
        {
            return null;
        }

        if (value.IsString())
        {
            return quoteStrings ? Json(value) : value.AsString();
        }

        if (!value.IsObject())
        {
            return SafeToString(value);
        }

        var instance = value.AsObject();
        if (instance is ICallable || instance.Class is "Error" or "RegExp")
        {
            return SafeToString(value);
        }

        return Json(value) ?? SafeToString(value);
    }

    /// <summary>JSON text of a value, or <see langword="null"/> when JSON has none (undefined, functions) or it fails (cycles).</summary>
    private string? Json(JsValue value)
    {
        try
        {
            var json = new JsonSerializer(CurrentEngine).Serialize(value, JsValue.Undefined, JsValue.Undefined);
            return json.IsString() ? json.AsString() : null;
        }
        catch (JavaScriptException)
        {
            return null;
        }
    }

    private static string? SafeToString(JsValue value)
    {
        try
        {
            return TypeConverter.ToString(value);
        }
        catch (JavaScriptException)
        {
            return value.IsObject() ? $"[object {value.AsObject().Class}]" : null;
        }
    }
}
