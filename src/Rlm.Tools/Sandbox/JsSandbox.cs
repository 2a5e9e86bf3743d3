using System.Globalization;
using System.Text.RegularExpressions;
using Acornima;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Rlm.Tools.Context;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// A JavaScript REPL over a session (Jint 4.18, ES2023): one engine, created on first use, whose globals persist across
/// <see cref="ExecuteAsync"/> calls. Every Jint type stays inside this folder.
/// </summary>
/// <remarks>
/// <para><b>Globals.</b> <c>context</c> (the view's text, read once on first use), <c>print(...)</c> and
/// <c>console.log/info/warn/error/debug(...)</c> (arguments joined by a space, objects as JSON, one line per call),
/// <c>grep(pattern, max = 1000)</c> → <c>[{line, text, offset, document, document_line}]</c>, <c>lines(start, end)</c>
/// → the text of view lines <c>[start, end)</c> (0-based, clamped; <c>end</c> defaults to the last line) joined by
/// <c>\n</c>, <c>set_variable(name, value)</c> (non-strings stored as JSON), <c>get_variable(name)</c> (the text, or
/// <c>undefined</c> for an unknown name), <c>llm_query(prompt)</c> → string and <c>llm_query_batched(prompts)</c> →
/// strings in prompt order; <c>count_lines</c>, <c>count_matches</c> and <c>count_by</c>, native counting helpers (see
/// <see cref="JsNativeHelpers"/>). No CLR, modules, file system or network; <c>eval</c> and the <c>Function</c> constructor
/// throw (Jint's <c>StringCompilationAllowed = false</c>).</para>
/// <para><b>Limits</b> (<see cref="JsLimits"/>), all Jint 4 constraints, checked before statements and inside
/// long-running built-ins: statements (<c>MaxStatements</c>), recursion (<c>LimitRecursion</c>, and
/// <c>StackOverflowGuard</c>, which probes the native stack on every entry into a function by any route: getters,
/// coercions, Proxy traps, callbacks of built-ins), regular expressions (<c>RegexTimeout</c>, at most 1 s per
/// operation), and <see cref="SandboxConstraint"/> for script time (waits on <c>llm_query</c> do not count),
/// cancellation and the session's memory. <see cref="JsGuards"/> covers the built-ins that recurse without entering a
/// function and allocations larger than the memory limit; <see cref="JsBulkGuards"/>, <see cref="JsDefaultSort"/> and
/// <see cref="JsGlobalMatch"/> the built-ins that would do a whole job in one unchecked step (<c>sort</c>,
/// <c>JSON.stringify</c>, <c>replace</c>, a global <c>match</c>, iterating a huge string); <see cref="JsExpansionGuards"/>
/// those whose result can be much larger than their input (URI encoding, <c>escape</c>, case mapping, <c>normalize</c>
/// on long strings, run a chunk at a time; <c>flat</c> refused up front) and typed-array <c>sort</c>/<c>toSorted</c>;
/// <see cref="JsBigIntGuard"/> BigInt multiplication; <see cref="JsRealmRemovals"/> takes out
/// <c>SharedArrayBuffer</c>, <c>Atomics.wait</c>/<c>waitAsync</c>, <c>FinalizationRegistry</c>, <c>Temporal</c> and
/// <c>ShadowRealm</c>. A limit stops the script with an error; the engine stays and keeps every global. Bound: a limit
/// takes effect within the time limit plus one regular-expression operation (≤ 1 s) and one bounded built-in step.</para>
/// <para><b>Threads.</b> Each call runs on its own thread with a 16 MiB stack (reserved, not committed): room for the
/// recursion limit and for <see cref="JsGuards.MaxStructureDepth"/>, yet small enough that a runaway recursion Jint does not
/// count (through coercions, getters) meets <c>StackOverflowGuard</c> within milliseconds rather than unwinding a huge
/// stack. Legitimate recursion has room and <c>llm_query</c> blocks that thread, never a thread-pool thread. Calls take turns.
/// Cancelling the caller's token ends the call at once with <see cref="OperationCanceledException"/>; the script stops at
/// its next check and the next call waits for it.</para>
/// <para><b>Isolation.</b> Scripts run in the host process. Measured on Jint 4.18 with these guards, every hostile
/// family of the tests (endless loops in every position, memory bombs, deep recursion and deep structures, catastrophic
/// regular expressions, escapes, helper abuse) ends in an error to the model and the next call works, so a worker
/// process (start-up, a copy of the context, a round trip per helper call) buys nothing today. The residual risk is a
/// native recursion inside a Jint built-in that neither Jint nor <see cref="JsGuards"/> probes.</para>
/// </remarks>
internal sealed partial class JsSandbox : IDisposable
{
    /// <summary>Longest script accepted (characters).</summary>
    public const int MaxCodeChars = 1_000_000;

    /// <summary>Stack reserved for each script thread.</summary>
    internal const int ScriptStackBytes = 16 << 20;

    private const int DefaultGrepMax = 1_000;
    private const int MaxGrepResults = 100_000;
    private const int MaxSnippetChars = 160;

    // Jint appends "(<anonymous>:2:9)" to parse errors; the sandbox gives line and column its own way.
    private static readonly Regex s_sourcePosition = new(@"\s*\(<anonymous>:\d+:\d+\)$", RegexOptions.CultureInvariant);

    private static readonly Regex s_variableName = new("^[A-Za-z_][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant);

    private readonly JsLimits _limits;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private readonly JsBigIntGuard _bigInts = new();

    // Touched only by the script thread that holds _gate.
    private IJsHost _host = null!;
    private Engine? _engine;
    private SandboxConstraint? _constraint;
    private JsRun? _run;
    private string? _contextText;

    /// <summary>Creates a sandbox; its engine is created by the first call.</summary>
    public JsSandbox(JsLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
    }

    /// <summary>
    /// Runs <paramref name="code"/> in the sandbox. Script failures (syntax, uncaught errors, limits) come back in
    /// <see cref="JsExecutionResult.Error"/>; only cancellation of <paramref name="cancellationToken"/> throws. Globals
    /// persist from call to call; the helpers (<c>grep</c>, <c>llm_query</c>, …) reach <paramref name="host"/>, the caller's
    /// own, for this call only.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The sandbox is disposed.</exception>
    public async Task<JsExecutionResult> ExecuteAsync(string code, IJsHost host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(host);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (code.Length > MaxCodeChars)
        {
            return new JsExecutionResult("", null, string.Create(CultureInfo.InvariantCulture, $"the code is {code.Length:N0} characters long; exec_js takes at most {MaxCodeChars:N0}. Read data from context instead of pasting it into the code."), false);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);

        var completion = new TaskCompletionSource<JsExecutionResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (StartScriptThread(() => RunOnScriptThread(code, host, cancellationToken, completion)) is { } failure)
        {
            _gate.Release();
            return new JsExecutionResult("", null, $"the script thread could not start: {failure.Message}", false);
        }

        // Return as soon as the caller cancels; the script thread stops at its next check and releases the gate.
        return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts the script thread, falling back to the default stack size when the large one cannot be reserved.</summary>
    private static Exception? StartScriptThread(ThreadStart body)
    {
        try
        {
            new Thread(body, ScriptStackBytes) { IsBackground = true, Name = "exec_js" }.Start();
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

    /// <summary>Gets a value indicating whether a script thread is still running (a call holds the sandbox).</summary>
    internal bool IsRunning => _gate.CurrentCount == 0;

    /// <summary>Stops a running script at its next check and refuses further calls.</summary>
    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
        }
    }

    private void RunOnScriptThread(string code, IJsHost host, CancellationToken cancellationToken, TaskCompletionSource<JsExecutionResult> completion)
    {
        try
        {
            _host = host;
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
        string? value = null;
        string? error = null;
        Engine engine;
        try
        {
            // Before the clock starts: creating the engine (a full collection for the memory baseline, the guards) is
            // the sandbox's cost, not the script's.
            engine = EnsureEngine();
        }
        catch (Exception e)
        {
            return new JsExecutionResult("", null, $"internal sandbox error: the engine could not be created: {e.GetType().Name}: {e.Message}", false);
        }

        var run = new JsRun(_limits, cancellationToken);
        _run = run;
        try
        {
            _constraint!.Run = run;
            _constraint.BeginCall();
            Prepared<Acornima.Ast.Script> script;
            try
            {
                script = Engine.PrepareScript(code);
                string prepared = _bigInts.Prepare(code, script.Program!);
                if (!ReferenceEquals(prepared, code))
                {
                    script = Engine.PrepareScript(prepared);
                }
            }
            catch (Exception e) when (e is InsufficientExecutionStackException or JsLimitStackException)
            {
                throw new JsSyntaxException("the code nests too deeply to parse; flatten it.");
            }

            var result = engine.Evaluate(script);
            value = Render(engine, result, quoteStrings: false);

            // A call that allocated much may have kept it in globals with no statement left to notice: measure now.
            _constraint.EndCall();
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
            error = SafeDescribe(e, code);
        }
        finally
        {
            if (_constraint is not null)
            {
                _constraint.Run = null;
            }

            _run = null;
        }

        return new JsExecutionResult(run.Output.ToString(), error is null ? value : null, error, run.Output.Truncated);
    }

    private Engine EnsureEngine()
    {
        if (_engine is not null)
        {
            return _engine;
        }

        var constraint = new SandboxConstraint(_limits);
        var engine = new Engine(options =>
        {
            options.Constraints.StackOverflowGuard = true;
            options.Constraints.RegexTimeout = _limits.Timeout < TimeSpan.FromSeconds(1) ? _limits.Timeout : TimeSpan.FromSeconds(1);
            options.Host.StringCompilationAllowed = false;
            options.MaxStatements(_limits.MaxStatements);

            // An array of this many elements holds at least 8 bytes each: past the memory limit before it is filled.
            options.Constraints.MaxArraySize = (uint)Math.Clamp(_limits.MemoryLimitBytes / 8, 1_000_000, uint.MaxValue);
            options.LimitRecursion(_limits.MaxRecursionDepth);
            options.Constraint(constraint);
            options.Culture(CultureInfo.InvariantCulture);
            options.LocalTimeZone(TimeZoneInfo.Utc);
        });

        void Global(string name, JsValue value) =>
            engine.Global.FastSetProperty(name, new PropertyDescriptor(value, PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));

        Global("print", Function(engine, "print", 1, Print));
        var console = new JsObject(engine);
        foreach (var name in new[] { "log", "info", "warn", "error", "debug" })
        {
            console.FastSetProperty(name, new PropertyDescriptor(Function(engine, name, 1, Print), PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));
        }

        Global("console", console);
        Global("set_variable", Function(engine, "set_variable", 2, SetVariable));
        Global("get_variable", Function(engine, "get_variable", 1, GetVariable));
        Global("grep", Function(engine, "grep", 2, Grep));
        Global("lines", Function(engine, "lines", 2, Lines));
        Global("llm_query", Function(engine, "llm_query", 1, LlmQuery));
        Global("llm_query_batched", Function(engine, "llm_query_batched", 1, LlmQueryBatched));
        DefineContext(engine);
        JsRealmRemovals.Install(engine);
        _bigInts.Install(engine);
        JsGuards.Install(engine, _limits.MemoryLimitBytes, _bigInts);
        JsBulkGuards.Install(engine, _limits.MemoryLimitBytes);
        JsExpansionGuards.Install(engine, _limits.MemoryLimitBytes);
        JsGlobalMatch.Install(engine);
        JsNativeHelpers.Install(engine);

        _engine = engine;
        _constraint = constraint;
        return engine;
    }

    /// <summary>Text of a value for output (see <see cref="JsPreview"/>), at most about <see cref="JsLimits.MaxOutputChars"/> characters; <see langword="null"/> for undefined.</summary>
    private string? Render(Engine engine, JsValue value, bool quoteStrings) =>
        JsPreview.Render(engine, value, _limits.MaxOutputChars, quoteStrings, allowCalls: true);

    /// <summary>
    /// <see cref="Render"/> for error messages: runs no script code (the script may have been stopped by a limit) and
    /// never throws.
    /// </summary>
    private string? SafeRender(Engine engine, JsValue value, bool quoteStrings)
    {
        try
        {
            return JsPreview.Render(engine, value, Math.Min(_limits.MaxOutputChars, 2_000), quoteStrings, allowCalls: false);
        }
        catch (Exception)
        {
            return value is ObjectInstance ? "[an object that cannot be shown]" : value.Type.ToString();
        }
    }
}

/// <summary>Code the sandbox refuses before running it.</summary>
internal sealed class JsSyntaxException(string message) : Exception(message);
