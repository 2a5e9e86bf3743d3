using static Rlm.Tools.Tests.Sandbox.Hostile.HostileHarness;

namespace Rlm.Tools.Tests.Sandbox.Hostile;

/// <summary>
/// Hostile code, family 7: throwing things that are not Errors — <c>null</c>, primitives, Symbols, BigInts, objects whose
/// <c>toString</c>/<c>toJSON</c>/<c>message</c> throw or loop, Proxies (throwing, looping, revoked), cycles. The host
/// describes what was thrown without running unbounded script code and without a host exception; the next call works.
/// </summary>
[Collection(JsSandboxCollection.Name)]
public sealed class JsHostileThrowTests
{
    private static readonly string[] Thrown = ["Uncaught", "threw", "throw", "Error", "exception"];

    [Theory]
    [InlineData("throw null", "null")]
    [InlineData("throw undefined", "undefined")]
    [InlineData("throw 42", "42")]
    [InlineData("throw 'plain text'", "plain text")]
    [InlineData("throw Symbol('marker')", "Symbol(marker)")]
    [InlineData("throw 10n", "10")]
    [InlineData("throw { code: 7 }", "7")]
    [InlineData("throw [1, 2]", "1")]
    [InlineData("throw new Proxy(new Error('wrapped'), {})", "wrapped")]
    [InlineData("throw new AggregateError([null, Symbol()], 'several')", "several")]
    public Task ThrownValue_IsShownInTheError(string code, string shown) => HostileAsync(code, [shown]);

    [Theory]
    [InlineData("throw { toString() { throw 1; } }")]
    [InlineData("throw { toString() { throw { toString() { throw 2; } }; } }")]
    [InlineData("throw Object.create(null)")]
    [InlineData("var o = {}; o.self = o; throw o")]
    [InlineData("throw function f() { }")]
    [InlineData("throw new Proxy({}, { get() { throw new Error('trap'); } })")]
    [InlineData("throw new Proxy({}, { get() { throw new Proxy({}, { get() { throw 3; } }); }, ownKeys() { throw 4; }, getPrototypeOf() { throw 5; } })")]
    [InlineData("const r = Proxy.revocable({}, {}); r.revoke(); throw r.proxy")]
    [InlineData("var e = new Error('x'); Object.defineProperty(e, 'name', { get() { throw new Error('inner'); } }); throw e")]
    [InlineData("throw new (class extends Error { get message() { throw 1; } })()")]
    [InlineData("const e = new Error('c'); e.cause = e; throw e")]
    [InlineData("throw { toJSON() { throw new Error('json'); }, toString() { return Symbol(); } }")]
    public Task ThrownValueWhoseDescriptionThrows_GivesAClearError(string code) => HostileAsync(code, Thrown);

    /// <summary>Describing the thrown value runs script code (toString, getters, traps) that loops: it must be bounded too.</summary>
    [Theory]
    [InlineData("throw { toString() { for (;;) { } } }")]
    [InlineData("throw { toJSON() { for (;;) { } } }")]
    [InlineData("throw { get message() { for (;;) { } }, name: 'Error' }")]
    [InlineData("var e = new Error('x'); Object.defineProperty(e, 'message', { get() { for (;;) { } } }); throw e")]
    [InlineData("throw new Proxy({}, { get() { for (;;) { } }, ownKeys() { for (;;) { } }, getPrototypeOf() { for (;;) { } } })")]
    [InlineData("throw { [Symbol.toPrimitive]() { for (;;) { } }, get a() { for (;;) { } } }")]
    public Task ThrownValueWhoseDescriptionLoops_IsBounded(string code) => HostileAsync(code, [.. Thrown, .. LoopLimits]);

    /// <summary>A huge thrown text must not come back whole: the error the model reads stays small.</summary>
    [Theory]
    [InlineData("throw 'x'.repeat(5e7)")]
    [InlineData("throw new Error('y'.repeat(5e7))")]
    [InlineData("throw { big: 'z'.repeat(5e7) }")]
    public async Task HugeThrownValue_GivesABoundedError(string code)
    {
        var result = await HostileAsync(code, []);
        Assert.True(result.Error!.Length <= 4 * MaxOutputChars, $"HUGE ERROR: {result.Error.Length:N0} characters came back to the model");
    }

    /// <summary>Rejections nobody handles, with hostile reasons: no host exception, the session goes on.</summary>
    [Theory]
    [InlineData("Promise.reject(null); 'ok'")]
    [InlineData("Promise.reject({ toString() { throw 1; } }); 'ok'")]
    [InlineData("(async () => { throw new Proxy({}, { get() { throw 2; } }); })(); 'ok'")]
    [InlineData("(async () => { throw { toString() { for (;;) { } } }; })(); 'ok'")]
    [InlineData("Promise.reject(Symbol('s')).finally(() => { throw null; }); 'ok'")]
    public async Task UnhandledHostileRejection_DoesNotBreakTheSession(string code)
    {
        using var sandbox = await SessionAsync();

        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));

        AssertNoSandboxFault(result, code);
        await AssertRecoversAsync(sandbox);
    }
}
