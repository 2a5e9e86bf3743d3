using static Rlm.Tools.Tests.Sandbox.Hostile.HostileHarness;

namespace Rlm.Tools.Tests.Sandbox.Hostile;

/// <summary>
/// Hostile code, family 3: deep recursion and deep structures — unbounded and mutual recursion (also through getters,
/// <c>toString</c>, Proxy traps and built-in callbacks), structures nested a million deep at run time and then
/// <c>JSON.stringify</c>'d, printed, joined or returned as the completion value, a 600,000-deep prototype chain, ~140,000
/// levels of nesting in the source, and <c>JSON.parse</c> of <c>'['.repeat(1e6)</c>. .NET cannot catch a stack
/// overflow: on Jint 2 several of these kill the test host (exit 134), which is why this family is its own class
/// (run it alone: <c>--filter FullyQualifiedName~JsHostileDepthTests</c>).
/// </summary>
[Collection(JsSandboxCollection.Name)]
public sealed class JsHostileDepthTests
{
    private const string DeepObject = "var o = {}; for (let i = 0; i < 1e6; i++) o = { a: o }; ";
    private const string DeepArray = "var d = []; for (let i = 0; i < 1e6; i++) d = [d]; ";

    [Theory]
    [InlineData("function down(n) { return down(n + 1) + 1; } down(0)")]
    [InlineData("const down = n => 1 + down(n + 1); down(0)")]
    [InlineData("function ping(n) { return pong(n) + 1; } function pong(n) { return ping(n) + 1; } ping(0)")]
    [InlineData("class A { m() { return this.m() + 1; } } new A().m()")]
    [InlineData("function* g() { yield* g(); } [...g()]")]
    [InlineData("async function f() { return await f(); } f()")]
    [InlineData("function f() { return new f(); } new f()")]
    [InlineData("function f() { return f.apply(null, []); } f()")]
    [InlineData("function f() { return Reflect.apply(f, null, []); } f()")]
    [InlineData("function f() { return [1].map(f); } f()")]
    public Task UnboundedRecursion_StopsAtTheRecursionLimit(string code) => HostileAsync(code, DepthLimits);

    /// <summary>Recursion the engine's call counter may not see: through accessors, conversions, traps and bound functions.</summary>
    [Theory]
    [InlineData("var a = { get x() { return b.y; } }, b = { get y() { return a.x; } }; a.x")]
    [InlineData("var o = { get x() { return this.x; } }; o.x")]
    [InlineData("var o = { toString() { return 'a' + this; } }; 'b' + o")]
    [InlineData("var o = { valueOf() { return +this; } }; o * 2")]
    [InlineData("var o = { [Symbol.toPrimitive]() { return `${this}`; } }; `${o}`")]
    [InlineData("var p = new Proxy({}, { get(t, k, r) { return r[k]; } }); p.x")]
    [InlineData("var p = new Proxy({}, { has(t, k) { return k in p; } }); 'x' in p")]
    [InlineData("var f = function () { return g(); }; var g = f.bind(null); g()")]
    [InlineData("var o = { toJSON() { return JSON.stringify(this); } }; JSON.stringify(o)")]
    public Task HiddenRecursion_StopsAtALimit(string code) => HostileAsync(code, [.. DepthLimits, .. LoopLimits]);

    /// <summary>
    /// Structures built a million deep at run time and handed to recursive built-ins or host conversions. A correct
    /// iterative answer would also do; what must not happen is a stack overflow (the issue: Jint 4 alone still overflows
    /// on stringify and on the completion value).
    /// </summary>
    [Theory]
    [InlineData(DeepObject + "JSON.stringify(o).length")]
    [InlineData(DeepArray + "JSON.stringify(d).length")]
    [InlineData(DeepObject + "print(o)")]
    [InlineData(DeepArray + "console.log(d)")]
    [InlineData(DeepObject + "o")]
    [InlineData(DeepArray + "d")]
    [InlineData(DeepArray + "String(d).length")]
    [InlineData(DeepArray + "d.join().length")]
    [InlineData(DeepArray + "d.flat(Infinity).length")]
    [InlineData(DeepObject + "structuredClone(o)")]
    [InlineData(DeepObject + "set_variable('deep', o)")]
    [InlineData(DeepObject + "llm_query(o)")]
    [InlineData(DeepArray + "llm_query_batched(d)")]
    [InlineData(DeepObject + "throw o")]
    public async Task DeepStructureInABuiltInOrHostConversion_DoesNotKillTheHost(string code)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        if (result.Error is not null)
        {
            AssertClearError(result, code, [.. DepthLimits, .. LoopLimits, "memory limit", "ReferenceError", "Uncaught"]);
        }

        await AssertRecoversAsync(sandbox);
    }

    /// <summary>A 600,000-deep prototype chain, then a lookup that walks it (a miss), a hit at the bottom, printing, and <c>in</c>.</summary>
    [Theory]
    [InlineData("p.missing", null)]
    [InlineData("p.bottom", "1")]
    [InlineData("p.toString()", "[object Object]")]
    [InlineData("'missing' in p", "false")]
    [InlineData("p instanceof Object", "true")]
    [InlineData("print(p); 'printed'", "printed")]
    [InlineData("p", "{}")]
    [InlineData("String(p)", "[object Object]")]
    [InlineData("p.missing = 1; p.missing", "1")]
    [InlineData("Object.setPrototypeOf({}, p).missing", null)]
    public async Task DeepPrototypeChain_AnswersOrStopsWithoutKillingTheHost(string use, string? rightValue)
    {
        using var sandbox = await SessionAsync();
        string code = "var p = { bottom: 1 }; for (let i = 0; i < 600000; i++) p = Object.create(p); " + use;

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        if (result.Error is not null)
        {
            AssertClearError(result, code, [.. DepthLimits, .. LoopLimits, "prototype"]);
        }
        else
        {
            Assert.Equal(rightValue, result.Value);
        }

        await AssertRecoversAsync(sandbox);
    }

    /// <summary>
    /// ~140,000 levels of nesting in the source: a clear syntax/nesting error (or the right value), never a crash of the
    /// parser (or of the interpreter walking the tree).
    /// </summary>
    [Theory]
    [InlineData("(", "1", ")", "1")]
    [InlineData("[", "1", "]", null)]
    [InlineData("{ a: ", "1", " }", null)]
    [InlineData("{", "", "}", null)]
    [InlineData("!", "1", "", "true")]
    [InlineData("- ", "1", "", "1")]
    [InlineData("(() => ", "1", ")", null)]
    [InlineData("function f() { ", "", "}", null)]
    [InlineData("if (1) ", "1", "", "1")]
    [InlineData("a ? ", "1", " : 2", "1")]
    public async Task DeeplyNestedSource_GivesASyntaxErrorOrRuns(string open, string middle, string close, string? rightValue)
    {
        // ~140,000 levels, fewer for long openers so the script stays under the 1,000,000-character cap.
        int depth = Math.Min(140_000, 950_000 / (open.Length + close.Length));
        string code = (open == "a ? " ? "var a = 1; " : "x = ") +
            string.Concat(Enumerable.Repeat(open, depth)) + middle + string.Concat(Enumerable.Repeat(close, depth));
        if (open is "{" or "if (1) " or "function f() { ")
        {
            code = code[4..]; // statements, not an expression
        }

        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        if (result.Error is not null)
        {
            AssertClearError(result, code, [.. DepthLimits, "SyntaxError", "too long", "characters"]);
        }
        else if (rightValue is not null)
        {
            Assert.Equal(rightValue, result.Value);
        }

        await AssertRecoversAsync(sandbox);
    }

    [Theory]
    [InlineData("JSON.parse('['.repeat(1e6) + ']'.repeat(1e6)); 'parsed'")]
    [InlineData("JSON.parse('['.repeat(1e6)); 'parsed'")]
    [InlineData("JSON.parse('{\"a\":'.repeat(1e6) + '1' + '}'.repeat(1e6)); 'parsed'")]
    [InlineData("JSON.parse('['.repeat(1e6) + ']'.repeat(1e6), (k, v) => v); 'parsed'")]
    [InlineData("JSON.parse('['.repeat(1e6) + ']'.repeat(1e6))")]
    public async Task DeepJsonParse_GivesAClearErrorOrParses(string code)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        if (result.Error is not null)
        {
            AssertClearError(result, code, [.. DepthLimits, "SyntaxError", "JSON"]);
        }

        await AssertRecoversAsync(sandbox);
    }
}
