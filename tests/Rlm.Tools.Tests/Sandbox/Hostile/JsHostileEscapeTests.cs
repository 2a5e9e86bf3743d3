using static Rlm.Tools.Tests.Sandbox.Hostile.HostileHarness;

namespace Rlm.Tools.Tests.Sandbox.Hostile;

/// <summary>
/// Hostile code, family 5: escapes — CLR access (<c>importNamespace</c>, <c>System</c>, <c>clr</c>, <c>GetType()</c> on
/// host values), <c>Function</c>/<c>eval</c>/constructor chains, Proxy/Reflect over the host helpers, prototype pollution
/// before calling helpers, and redefining <c>print</c>/<c>grep</c>/<c>llm_query</c>. An escape must fail (a
/// ReferenceError/TypeError, or the helper is not reachable); dynamic code, where Jint 4 allows it, must still run under
/// every limit; the helpers must not depend on what the script did to the built-ins; and no host exception may come out.
/// </summary>
[Collection(JsSandboxCollection.Name)]
public sealed class JsHostileEscapeTests
{
    private static readonly string[] Refused =
        ["ReferenceError", "TypeError", "not defined", "not a function", "not available", "EvalError", "SyntaxError", "undefined", "null"];

    private static async Task AssertEscapeFailsAsync(string code)
    {
        var result = await HostileAsync(code, Refused);
        Assert.DoesNotContain("root:", result.Error);
        Assert.DoesNotContain("root:", result.Output);
    }

    [Theory]
    [InlineData("importNamespace('System.IO').File.ReadAllText('/etc/passwd')")]
    [InlineData("System.IO.File.ReadAllText('/etc/passwd')")]
    [InlineData("clr.System.IO.File.ReadAllText('/etc/passwd')")]
    [InlineData("require('fs').readFileSync('/etc/passwd', 'utf8')")]
    [InlineData("process.mainModule.require('fs')")]
    [InlineData("globalThis.host.typeOf('System.IO.File')")]
    public Task ClrAndModuleAccess_Fails(string code) => AssertEscapeFailsAsync(code);

    /// <summary>Host values (helpers, their results, the context) must be plain JavaScript, not CLR objects with reflection.</summary>
    [Theory]
    [InlineData("print.GetType().Assembly.Location")]
    [InlineData("context.GetType().Assembly.Location")]
    [InlineData("grep('a').GetType().Assembly.Location")]
    [InlineData("grep('a')[0].GetType().Assembly.Location")]
    [InlineData("grep('a')[0].text.GetType().Assembly.Location")]
    [InlineData("llm_query('x').GetType().Assembly.Location")]
    [InlineData("llm_query_batched(['x']).GetType().Assembly.Location")]
    [InlineData("lines(0, 1).GetType().Assembly.Location")]
    [InlineData("globalThis.GetType().Assembly.Location")]
    [InlineData("Object.getPrototypeOf(grep('a')).GetType().Assembly.Location")]
    public Task ReflectionOnHostValues_Fails(string code) => AssertEscapeFailsAsync(code);

    /// <summary>
    /// Dynamic code and constructor chains, asked for a CLR door. Whether <c>eval</c>/<c>Function</c> is refused (Jint 2
    /// sandbox) or allowed (ES2023 on Jint 4), the door is not there: a ReferenceError, or the refusal.
    /// </summary>
    [Theory]
    [InlineData("eval('importNamespace(\"System.IO\")')")]
    [InlineData("new Function('return System.IO.File')()")]
    [InlineData("(() => { }).constructor('return importNamespace')()('System')")]
    [InlineData("Object.getPrototypeOf(print).constructor('return clr')().System")]
    [InlineData("print.call.call.constructor('return require')()('fs')")]
    [InlineData("({}).constructor.constructor('return process')().exit(1)")]
    [InlineData("(function* () { }).constructor('yield importNamespace')().next().value('System')")]
    [InlineData("(0, eval)('this').importNamespace('System')")]
    [InlineData("globalThis.__proto__.constructor.constructor('return System')().IO")]
    public Task DynamicCodeAskingForTheClr_Fails(string code) => AssertEscapeFailsAsync(code);

    /// <summary>The global object reached through a constructor chain is the sandbox's own: no CLR or module doors on it.</summary>
    [Theory]
    [InlineData("(() => { }).constructor('return this')()")]
    [InlineData("Function('return this')()")]
    [InlineData("(0, eval)('this')")]
    [InlineData("globalThis")]
    [InlineData("(function () { return this; })()")]
    public async Task GlobalObjectFromAnyPath_HasNoHostDoors(string path)
    {
        const string Doors = "/^(clr|System|importNamespace|process|require|host|Host|Packages|java|module|exports|fetch|XMLHttpRequest|WebSocket|Deno|Bun)$/";
        string code = $"let g; try {{ g = {path}; }} catch (e) {{ g = null; }} g === null ? 'refused' : Object.getOwnPropertyNames(g).filter(n => {Doors}.test(n)).join() || 'none'";
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        Assert.True(result.Error is null, $"error: {result.Error}");
        Assert.True(result.Value is "none" or "refused", $"host doors on the global object: {result.Value}");
        await AssertRecoversAsync(sandbox);
    }

    /// <summary>Dynamic code, where allowed, runs under the same limits (an eval'd loop is stopped; eval'd nesting does not crash).</summary>
    [Theory]
    [InlineData("eval('while (true) { }')")]
    [InlineData("new Function('for (;;) { }')()")]
    [InlineData("eval('function r() { return r() + 1; } r()')")]
    [InlineData("(async () => { }).constructor('for (;;) { }')()")]
    [InlineData("eval('var s = \"x\"; for (;;) s += s;')")]
    [InlineData("Function(\"return eval('for (;;) { }')\")()")]
    public Task DynamicCode_RunsUnderTheLimitsOrIsRefused(string code) =>
        HostileAsync(code, [.. LoopLimits, .. DepthLimits, "memory limit", "RangeError", "eval", "Function", "not available", "SyntaxError"]);

    /// <summary>Deep nesting handed to the parser at run time: the right value or a clear error, never a crash.</summary>
    [Theory]
    [InlineData("eval('('.repeat(140000) + '1' + ')'.repeat(140000))", "1")]
    [InlineData("Function('return ' + '['.repeat(140000) + ']'.repeat(140000))().length", "1")]
    [InlineData("new RegExp('('.repeat(100000) + 'a' + ')'.repeat(100000)).test('a')", "true")]
    public async Task DeepDynamicCode_AnswersOrFailsCleanly(string code, string value)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        if (result.Error is not null)
        {
            AssertClearError(result, code, [.. DepthLimits, "SyntaxError", "eval", "Function", "not available", "RegExp", "regular expression"]);
        }
        else
        {
            Assert.Equal(value, result.Value);
        }

        await AssertRecoversAsync(sandbox);
    }

    /// <summary>Proxy/Reflect over the helpers: JavaScript semantics, no host exception, and traps that loop are stopped.</summary>
    [Theory]
    [InlineData("new Proxy(grep, { apply(t, th, args) { return Reflect.apply(t, th, ['a']); } })('zzz').length", "4")]
    [InlineData("Reflect.apply(llm_query, null, ['q'])", "answer:q")]
    [InlineData("new Proxy(print, {}).call(null, 'x'); 'ok'", "ok")]
    [InlineData("Object.setPrototypeOf(print, null); print('x'); 'ok'", "ok")]
    [InlineData("Reflect.getPrototypeOf(grep) === Function.prototype", "true")]
    [InlineData("Reflect.ownKeys(llm_query).includes('length')", "true")]
    [InlineData("llm_query(new Proxy({ a: 1 }, {})).startsWith('answer:')", "true")]
    [InlineData("Object.assign(Object.create(grep), { x: 1 }).x", "1")]
    public async Task ProxyAndReflectOverHelpers_BehaveAsJavaScript(string code, string value)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        Assert.True(result.Error is null, $"error: {result.Error}; code: {code}");
        Assert.Equal(value, result.Value);
        await AssertRecoversAsync(sandbox);
    }

    /// <summary>Helpers given hostile arguments: a trap that throws is a clean error, a trap that loops hits the limit.</summary>
    [Theory]
    [InlineData("Reflect.construct(print, [])", new[] { "TypeError", "constructor" })]
    [InlineData("Reflect.construct(grep, ['a'])", new[] { "TypeError", "constructor" })]
    [InlineData("grep(new Proxy({}, { get() { throw new Error('trap fired'); } }))", new[] { "trap fired", "TypeError", "pattern" })]
    [InlineData("grep(new Proxy({}, { get() { for (;;) { } } }))", new[] { "time limit", "statement limit" })]
    [InlineData("llm_query(new Proxy({}, { get() { for (;;) { } }, ownKeys() { for (;;) { } } }))", new[] { "time limit", "statement limit" })]
    [InlineData("lines({ valueOf() { for (;;) { } } })", new[] { "time limit", "statement limit" })]
    [InlineData("set_variable('v', new Proxy({}, { ownKeys() { for (;;) { } } }))", new[] { "time limit", "statement limit" })]
    [InlineData("set_variable({ toString() { for (;;) { } } }, 'v')", new[] { "time limit", "statement limit", "name" })]
    [InlineData("print({ toJSON() { for (;;) { } } })", new[] { "time limit", "statement limit" })]
    [InlineData("print({ get a() { for (;;) { } } })", new[] { "time limit", "statement limit" })]
    public Task HelpersWithHostileArguments_FailCleanly(string code, string[] anyOf) => HostileAsync(code, anyOf);

    /// <summary>Built-ins polluted before a helper is called: the helper's results do not change (the host does not run script-visible built-ins).</summary>
    [Theory]
    [InlineData("Array.prototype.push = function () { throw new Error('polluted push'); }; grep('a').length", "4")]
    [InlineData("Object.defineProperty(Object.prototype, 'line', { set(v) { throw new Error('setter ran'); } }); grep('a')[0].line", "0")]
    [InlineData("Object.defineProperty(Array.prototype, '0', { set(v) { for (;;) { } } }); grep('a').length", "4")]
    [InlineData("Object.defineProperty(Array.prototype, '0', { set(v) { throw new Error('setter ran'); } }); llm_query_batched(['a', 'b'])[0]", "answer:a")]
    [InlineData("JSON.stringify = () => { throw new Error('no JSON'); }; set_variable('v', { a: 1 }); get_variable('v')", "{\"a\":1}")]
    [InlineData("String.prototype.toString = () => 'hijacked'; String.prototype.valueOf = () => 'hijacked'; llm_query('q')", "answer:q")]
    [InlineData("Object.prototype[Symbol.toPrimitive] = () => { throw new Error('p'); }; print({ a: 1 }, [1]); 'ok'", "ok")]
    [InlineData("Object.prototype.toString = function () { for (;;) { } }; print({ a: 1 }); 'ok'", "ok")]
    [InlineData("Array.prototype[Symbol.iterator] = function* () { for (;;) yield 1; }; llm_query_batched(['a']).length", "1")]
    [InlineData("Array.prototype.map = Array.prototype.forEach = null; grep('a').length + lines(0, 2).length", "22")]
    [InlineData("Object.freeze(Object.prototype); Object.freeze(Array.prototype); grep('a').length", "4")]
    [InlineData("Object.freeze(globalThis); context.length", "41")]
    public async Task PollutedBuiltIns_DoNotChangeTheHelpers(string code, string value)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        Assert.True(result.Error is null, $"POLLUTION REACHED THE HOST: {result.Error}; code: {code}");
        Assert.Equal(value, result.Value);
        await AssertRecoversAsync(sandbox);
    }

    [Fact]
    public async Task PollutedPrototypes_DoNotChangeWhatPrintWrites()
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox,
            "Object.prototype.toJSON = undefined; Object.prototype[Symbol.toPrimitive] = () => 'X'; Array.prototype.join = () => 'J'; print({ a: [1, 2] }, [3], 'text'); 'ok'",
            Bound(Limits()));

        Assert.True(result.Error is null, $"error: {result.Error}");
        Assert.Equal("{\"a\":[1,2]} [3] text\n", result.Output);
        await AssertRecoversAsync(sandbox);
    }

    /// <summary>
    /// Redefining the helpers is the script's business (globals persist, JavaScript semantics), but the host's output
    /// capture stays intact, a redefinition that recurses or loops is stopped, and the session still runs.
    /// </summary>
    [Theory]
    [InlineData("print = () => { throw new Error('no printing'); }; console.log('still'); 'ok'", "still\n", "ok")]
    [InlineData("console.log = null; print('p'); 'ok'", "p\n", "ok")]
    [InlineData("console = undefined; print('p'); 'ok'", "p\n", "ok")]
    [InlineData("grep = () => 'fake'; grep('a')", "", "fake")]
    [InlineData("globalThis.print = new Proxy(print, { apply(t, th, a) { return Reflect.apply(t, th, a.map(x => 'P:' + x)); } }); print('x'); 'ok'", "P:x\n", "ok")]
    [InlineData("delete globalThis.print; console.error('e'); 'ok'", "e\n", "ok")]
    [InlineData("set_variable = get_variable = lines = grep = llm_query = llm_query_batched = print = undefined; console.log('c'); 1 + 1", "c\n", "2")]
    public async Task RedefinedHelpers_KeepTheSandboxConsistent(string code, string output, string value)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        Assert.True(result.Error is null, $"error: {result.Error}; code: {code}");
        Assert.Equal(output, result.Output);
        Assert.Equal(value, result.Value);
        await AssertRecoversAsync(sandbox);
    }

    [Theory]
    [InlineData("var llm_query = 5; llm_query('x')", new[] { "TypeError", "not a function" })]
    [InlineData("print = function () { return print.apply(this, arguments); }; print('x')", new[] { "recursion limit", "call stack", "stack" })]
    [InlineData("Object.defineProperty(globalThis, 'llm_query', { get() { for (;;) { } }, configurable: true }); llm_query('x')", new[] { "time limit", "statement limit" })]
    [InlineData("const real = grep; grep = p => grep(p); grep('a')", new[] { "recursion limit", "call stack", "stack" })]
    public Task RedefinedHelpersThatBreak_FailCleanly(string code, string[] anyOf) => HostileAsync(code, anyOf);
}
