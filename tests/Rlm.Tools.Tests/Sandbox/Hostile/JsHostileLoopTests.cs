using static Rlm.Tools.Tests.Sandbox.Hostile.HostileHarness;

namespace Rlm.Tools.Tests.Sandbox.Hostile;

/// <summary>
/// Hostile code, family 1: endless loops in every position — plain loops, getters, <c>toString</c>/<c>valueOf</c>,
/// <c>Symbol.toPrimitive</c>, sort comparators, replace callbacks, JSON revivers and replacers, Proxy traps, generators,
/// async functions and promise chains (also those that never settle), <c>finally</c> blocks, and scripts that catch the
/// limit and go on. Each must end with the time (or statement) limit within the time limit + 2 s, and the session must
/// run its next call with its globals.
/// </summary>
[Collection(JsSandboxCollection.Name)]
public sealed class JsHostileLoopTests
{
    [Theory]
    [InlineData("while (true) { }")]
    [InlineData("for (;;) { }")]
    [InlineData("do { } while (true)")]
    [InlineData("outer: for (;;) { for (;;) { continue outer; } }")]
    [InlineData("let i = 0; while (i >= 0) { i = (i + 1) % 10; }")]
    public Task PlainLoop_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    [Theory]
    [InlineData("var o = { get x() { while (true) { } } }; o.x")]
    [InlineData("class C { get v() { for (;;) { } } } new C().v")]
    [InlineData("Object.defineProperty(globalThis, 'trap', { get() { for (;;) { } }, configurable: true }); trap")]
    [InlineData("var o = {}; Object.defineProperty(o, 'x', { set(v) { for (;;) { } } }); o.x = 1")]
    public Task LoopInAGetterOrSetter_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    [Theory]
    [InlineData("var o = { toString() { for (;;) { } } }; 'x' + String(o)")]
    [InlineData("({ valueOf() { for (;;) { } } }) * 2")]
    [InlineData("var o = { toString() { while (true) { } } }; `${o}`")]
    [InlineData("[{ toString() { for (;;) { } } }].join()")]
    [InlineData("var k = { toString() { for (;;) { } } }; var o = {}; o[k] = 1")]
    public Task LoopInToStringOrValueOf_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    [Theory]
    [InlineData("({ [Symbol.toPrimitive]() { for (;;) { } } }) + 1")]
    [InlineData("Number({ [Symbol.toPrimitive]() { while (true) { } } })")]
    [InlineData("new Date({ [Symbol.toPrimitive]() { for (;;) { } } })")]
    public Task LoopInSymbolToPrimitive_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    [Theory]
    [InlineData("[3, 1, 2].sort(() => { for (;;) { } })")]
    [InlineData("Array.from({ length: 1000 }, (_, i) => i).sort((a, b) => { while (true) { } })")]
    [InlineData("[3, 1, 2].toSorted(function () { for (;;) { } })")]
    public Task LoopInASortComparator_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    [Theory]
    [InlineData("'aaa'.replace(/a/g, () => { for (;;) { } })")]
    [InlineData("'aaa'.replaceAll('a', () => { while (true) { } })")]
    [InlineData("'a-b'.split({ [Symbol.split]() { for (;;) { } } })")]
    public Task LoopInAReplaceCallback_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    [Theory]
    [InlineData("JSON.parse('[1, 2, 3]', (k, v) => { for (;;) { } })")]
    [InlineData("JSON.stringify({ a: 1 }, (k, v) => { while (true) { } })")]
    [InlineData("JSON.stringify({ toJSON() { for (;;) { } } })")]
    public Task LoopInAJsonReviverReplacerOrToJson_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    [Theory]
    [InlineData("new Proxy({}, { get() { for (;;) { } } }).x")]
    [InlineData("'x' in new Proxy({}, { has() { while (true) { } } })")]
    [InlineData("Object.keys(new Proxy({}, { ownKeys() { for (;;) { } } }))")]
    [InlineData("for (var k in new Proxy({}, { ownKeys() { for (;;) { } } })) { }")]
    [InlineData("new Proxy(function () { }, { apply() { for (;;) { } } })()")]
    public Task LoopInAProxyTrap_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    [Theory]
    [InlineData("function* g() { for (;;) { } } g().next()")]
    [InlineData("function* g() { let i = 0; for (;;) yield i++; } for (const x of g()) { }")]
    [InlineData("const it = { [Symbol.iterator]() { return { next() { return { done: false, value: 1 }; } }; } }; for (const x of it) { }")]
    public Task LoopInAGenerator_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    /// <summary>An endless iterator collected into an array: both time and memory grow; either limit is a clear stop.</summary>
    [Theory]
    [InlineData("[...(function* () { for (;;) yield 1; })()]")]
    [InlineData("Array.from({ [Symbol.iterator]() { return { next() { return { done: false, value: 1 }; } }; } })")]
    [InlineData("const [first, ...rest] = { [Symbol.iterator]: function* () { for (;;) yield 1; } }")]
    public Task EndlessIteratorCollected_StopsAtALimit(string code) => HostileAsync(code, MemoryLimits);

    [Theory]
    [InlineData("(async () => { for (;;) { } })()")]
    [InlineData("new Promise(() => { while (true) { } })")]
    [InlineData("async function f() { await null; for (;;) { } } f()")]
    [InlineData("Promise.resolve().then(() => { for (;;) { } })")]
    [InlineData("function again() { return Promise.resolve().then(again); } again()")]
    [InlineData("(async function spin() { for (;;) await null; })()")]
    [InlineData("Promise.resolve().then(function again() { return Promise.resolve().then(again); }); 'queued'")]
    public Task LoopInAsyncCodeOrPromiseJobs_StopsAtTheLimit(string code) =>

        // From the third row on the loop is not in the script: it runs in the job queue the engine drains after it.
        HostileAsync(code, LoopLimits);

    /// <summary>
    /// A promise that never settles, awaited at the top level: either the sandbox does not take top-level await (a clear
    /// SyntaxError) or it waits for the promise and must give up within the bound with an error that says so.
    /// </summary>
    [Theory]
    [InlineData("await new Promise(() => { })")]
    [InlineData("await (async () => { await new Promise(() => { }); })()")]
    [InlineData("await new Promise(r => setTimeout(r, 1e9))")]
    public Task TopLevelAwaitOfAPromiseThatNeverSettles_EndsWithAClearError(string code) =>
        HostileAsync(code, ["time limit", "never", "settle", "pending", "await", "SyntaxError", "setTimeout"]);

    /// <summary>
    /// A never-settling promise the script does not await: the script itself is done. No error is required (the value
    /// may be the pending promise, or an error saying it never settled), but the call must end within the bound.
    /// </summary>
    [Theory]
    [InlineData("(async () => { await new Promise(() => { }); })()")]
    [InlineData("var p = new Promise(() => { }); p.then(() => 1); 'started'")]
    [InlineData("new Promise(() => { }).finally(() => { for (;;) { } }); 'started'")]
    public async Task UnawaitedPromiseThatNeverSettles_EndsWithinTheBound(string code)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        await AssertRecoversAsync(sandbox);
    }

    [Theory]
    [InlineData("try { for (;;) { } } finally { }")]
    [InlineData("try { throw new Error('x'); } finally { for (;;) { } }")]
    [InlineData("try { for (;;) { } } finally { for (;;) { } }")]
    [InlineData("for (;;) { try { break; } finally { continue; } }")]
    [InlineData("function f() { try { return 1; } finally { for (;;) { } } } f()")]
    public Task LoopInAFinallyBlock_StopsAtTheLimit(string code) => HostileAsync(code, LoopLimits);

    /// <summary>A script that catches the limit's error and carries on must still be stopped: limits are not catchable.</summary>
    [Theory]
    [InlineData("for (;;) { try { for (;;) { } } catch (e) { } }")]
    [InlineData("for (;;) { try { while (true) { } } catch { } finally { } }")]
    [InlineData("function f() { try { return f(); } catch (e) { return f(); } } f()")]
    [InlineData("for (;;) { try { (function r() { r(); })(); } catch (e) { } }")]
    public Task ScriptThatCatchesTheLimit_IsStillStopped(string code) =>
        HostileAsync(code, [.. LoopLimits, .. DepthLimits]);
}
