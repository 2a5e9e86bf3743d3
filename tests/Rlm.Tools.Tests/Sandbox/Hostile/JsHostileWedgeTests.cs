using System.Diagnostics;
using Rlm.Tools.Sandbox;
using static Rlm.Tools.Tests.Sandbox.Hostile.HostileHarness;

namespace Rlm.Tools.Tests.Sandbox.Hostile;

/// <summary>
/// Hostile code, family 8: what could wedge the engine or outlive its call — <c>Atomics.wait</c>, finalization
/// callbacks, BigInt multiplication, spreading huge strings, <c>replace</c> expansion, and the built-ins that do a whole
/// job in one step (<c>sort</c>, <c>JSON.stringify</c>, <c>join</c>, typed arrays). Each case: a clear error within the
/// time limit + slack, no script thread still running a second after the call returned, resident memory under 2 GiB
/// while it ran, and the same session then runs <c>1+1</c> and keeps its global.
/// </summary>
[Collection(JsSandboxCollection.Name)]
public sealed class JsHostileWedgeTests
{
    private const long ResidentCeiling = 2L << 30;

    /// <summary>An array past the checked-sort length with numbers, texts, an undefined and a hole, and a copy to sort by the engine's comparator path.</summary>
    private const string LongSortSetup =
        "var a = Array.from({ length: 70000 }, (_, i) => i % 3 ? (i * 7919) % 70001 : 'k' + (i % 11)); a[5] = undefined; delete a[6]; " +
        "var b = a.slice(); const byText = (x, y) => String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0; ";

    private static async Task WedgeAsync(string code, params string[] anyOf)
    {
        using var sandbox = await SessionAsync();
        long peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var process = Process.GetCurrentProcess();
            while (!stop.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                await Task.Delay(10, CancellationToken.None);
            }
        });
        try
        {
            await AssertFailsAsync(sandbox, code, anyOf);
        }
        finally
        {
            await stop.CancelAsync();
            await sampler;
        }

        await AssertStopsAsync(sandbox, code);
        Assert.True(peak < ResidentCeiling, $"RESIDENT: {peak >> 20:N0} MiB while it ran; code: {code}");
        await AssertRecoversAsync(sandbox);
    }

    /// <summary>No script thread runs on (a core busy) after its call returned: it stops within a second (plus slack for a loaded machine).</summary>
    private static async Task AssertStopsAsync(HostedSandbox sandbox, string code)
    {
        var clock = Stopwatch.StartNew();
        while (sandbox.Sandbox.IsRunning && clock.Elapsed < TimeSpan.FromSeconds(1) + Slack)
        {
            await Task.Delay(10);
        }

        Assert.False(sandbox.Sandbox.IsRunning, $"BUSY: the script thread still runs {clock.Elapsed.TotalSeconds:0.0} s after the call returned; code: {Snippet(code)}");
    }

    [Theory]
    [InlineData("Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)", "SharedArrayBuffer")]
    [InlineData("Atomics.wait(new Int32Array(4), 0, 0)", "Atomics.wait")]
    [InlineData("Atomics.waitAsync(new Int32Array(4), 0, 0)", "Atomics.waitAsync")]
    [InlineData("new ShadowRealm()", "ShadowRealm")]
    public Task AtomicsWait_IsRefused(string code, string named) => WedgeAsync(code, named);

    [Fact]
    public async Task AtomicsOnOrdinaryTypedArrays_StillWork()
    {
        using var sandbox = await SessionAsync();
        var (result, _) = await RunAsync(sandbox, "const a = new Int32Array(2); Atomics.add(a, 0, 5); Atomics.load(a, 0)", Bound(Limits()));
        Assert.True(result.Error is null, result.Error);
        Assert.Equal("5", result.Value);
    }

    [Fact]
    public Task FinalizationRegistry_IsNotAvailable() =>
        WedgeAsync("new FinalizationRegistry(() => { for (;;); }).register({}, 1)", "FinalizationRegistry");

    /// <summary>A weak reference runs no code: it stays, and nothing of one call runs in the next.</summary>
    [Fact]
    public async Task WeakRef_RunsNothingInTheNextCall()
    {
        using var sandbox = await SessionAsync();
        var (made, _) = await RunAsync(sandbox, "var refs = []; for (let i = 0; i < 1e4; i++) refs.push(new WeakRef({ i })); typeof refs[0].deref()", Bound(Limits()));
        Assert.True(made.Error is null, made.Error);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await AssertRecoversAsync(sandbox);
    }

    [Theory]
    [InlineData("let x = 3n; for (;;) x *= x;")]
    [InlineData("let x = 3n; for (;;) x = x * x;")]
    [InlineData("const o = { v: 3n }; for (;;) o.v *= o.v;")]
    [InlineData("let x = 2n ** 60000n; x * x")]
    [InlineData("2n ** 10000000n")]
    [InlineData("let x = 3n; x << (1n << 30n)")]
    [InlineData("BigInt.asUintN(2 ** 40, -1n)")]
    [InlineData("BigInt.asUintN(999999, -1n).toString(16).length")]
    [InlineData("(1n << 999999n).toString(16).length")]
    [InlineData("`${2n ** 999999n}`.length")]
    [InlineData("let x = 1n << 60000n; for (;;) x = x + x;")]
    [InlineData("let x = 1n << 60000n; for (;;) x -= -x;")]
    [InlineData("let x = -(1n << 60000n); x >> -10000n")]
    [InlineData("BigInt('9'.repeat(90000)).toString(16).length")]
    [InlineData("BigInt('0x' + 'f'.repeat(20000)).toLocaleString().length")]
    public Task BigInt_IsRefusedPastItsSize(string code) => WedgeAsync(code, "BigInt");

    /// <summary>A BigInt reached without being named would run in a script the sandbox did not prepare for BigInts.</summary>
    [Theory]
    [InlineData("const B = globalThis['Big' + 'Int']; let x = B(3); for (;;) x *= x;")]
    [InlineData("const C = globalThis['Big' + 'Int64Array']; new C(1)")]
    [InlineData("const d = new DataView(new ArrayBuffer(8)); d['get' + 'Big' + 'Int64'](0)")]
    public Task BigInt_ReachedWithoutItsName_IsRefused(string code) => WedgeAsync(code, "BigInt");

    [Theory]
    [InlineData("let f = 1n; for (let i = 1n; i <= 30n; i++) f *= i; f.toString()", "265252859812191058636308480000000")]
    [InlineData("(2n ** 64n * 3n - 1n).toString()", "55340232221128654847")]
    [InlineData("const a = [2n, 3n]; a[0] *= a[1]; String(a[0] * 7n)", "42")]
    [InlineData("const v = new BigInt64Array(1); v[0] = 6n; String(v[0] * 7n)", "42")]
    [InlineData("6 * 7", "42")]
    [InlineData("typeof BigInt; let z = 0; [Object.is(z * -1, -0), 1 / (z - 0 * -1), 0.1 + 0.2, NaN * 1, 'a' + 1, 1 + '1', [] + {}, 2 ** 10, 7 << 2, -9 >> 1].join()", "true,Infinity,0.30000000000000004,NaN,a1,11,[object Object],1024,28,-5")]
    [InlineData("let s = 'a'; s += 1n; let o = { v: 1n }; o.v += 2n; o.v <<= 3n; [s, o.v, 2n ** 100n >> 90n, (1n << 65000n).toString(16).length, 'x' + [1n]].join()", "a1,24,1024,16251,x1")]
    public async Task BigInt_OfOrdinarySize_StillWorks(string code, string expected)
    {
        using var sandbox = await SessionAsync();
        var (result, _) = await RunAsync(sandbox, code, Bound(Limits()));
        Assert.True(result.Error is null, result.Error);
        Assert.Equal(expected, result.Value);
    }

    /// <summary>A BigInt kept in a global from an earlier call is still multiplied through the guard in a call that does not name BigInt.</summary>
    [Fact]
    public async Task BigInt_KeptFromAnEarlierCall_IsStillGuarded()
    {
        using var sandbox = await SessionAsync();
        var (kept, _) = await RunAsync(sandbox, "var big = 3n; 'kept'", Bound(Limits()));
        Assert.True(kept.Error is null, kept.Error);
        var result = await AssertFailsAsync(sandbox, "for (;;) big *= big;", "BigInt");
        await AssertFailsAsync(sandbox, "for (;;) big = big + big;", "BigInt");
        Assert.Contains("bits", result.Error);
        await AssertRecoversAsync(sandbox);
    }

    [Theory]
    [InlineData("[...'x'.repeat(1e8)].length")]
    [InlineData("Array.from('x'.repeat(1e8)).length")]
    [InlineData("let n = 0; for (const c of 'xy'.repeat(1e8)) n++; n")]
    [InlineData("'a'.repeat(1e6).replace(/a/g, 'x'.repeat(1000)).length")]
    [InlineData("'a'.repeat(1e6).replaceAll('a', 'x'.repeat(1000)).length")]
    [InlineData("'ab'.repeat(1e6).replace(/b/g, '$`').length")]
    [InlineData("'a'.repeat(1e6).replace(/a/g, () => 'x'.repeat(1000)).length")]
    [InlineData("'ab'.repeat(5e7).match(/b/g).length")]
    [InlineData("'ab'.repeat(5e7).match(/(?:)/g).length")]
    public Task SpreadAndReplace_StopAtALimit(string code) => WedgeAsync(code, MemoryLimits);

    [Theory]
    [InlineData("var a = Array.from({ length: 3e6 }, (_, i) => (i * 7919) % 1000003); a.sort((x, y) => x - y); a.length")]
    [InlineData("var a = Array.from({ length: 3e6 }, (_, i) => (i * 7919) % 1000003); a.sort(); a.length")]
    [InlineData("var a = new Array(6e6).fill(7); for (;;) a.sort();")]
    [InlineData("var a = new Array(6e6).fill(7); for (;;) a.toSorted();")]
    [InlineData("var a = Array.from({ length: 2e6 }, (_, i) => ({ i, s: 'abcdefgh' + i })); JSON.stringify(a).length")]
    [InlineData("var a = Array.from({ length: 3e6 }, (_, i) => 'abcdefgh' + i); a.join(',').length")]
    [InlineData("new Float64Array(1e9).length")]
    [InlineData("new ArrayBuffer(2 ** 31).byteLength")]
    [InlineData("Array(1e9).fill(0).length")]
    public Task BulkBuiltIns_StopAtALimit(string code) => WedgeAsync(code, MemoryLimits);

    /// <summary>Built-ins whose result is much larger than their input, or that run over a huge input in one step.</summary>
    [Theory]
    [InlineData("var a = new Float64Array(3e7); for (let i = 0; i < 3e7; i += 1000) a[i] = -i; a.sort(); a[0]")]
    [InlineData("var a = new Float64Array(3e7); a.toSorted()[0]")]
    [InlineData("var a = new Int32Array(3e7); a.sort((x, y) => x - y); a[0]")]
    [InlineData("var a = new Float64Array(5e6); for (;;) a.sort();")]
    [InlineData("var a = new Float64Array(5e6); for (;;) a.toSorted((x, y) => x - y);")]
    [InlineData("decodeURIComponent('%C3%A9'.repeat(2e7)).length")]
    [InlineData("encodeURIComponent('\u00e9'.repeat(1e8)).length")]
    [InlineData("encodeURI('\u00e9'.repeat(1e8)).length")]
    [InlineData("escape('\u00e9'.repeat(1e8)).length")]
    [InlineData("'\u00df'.repeat(1e8).toUpperCase().length")]
    [InlineData("JSON.stringify('\\0'.repeat(1e8)).length")]
    [InlineData("JSON.stringify({ a: '\\0'.repeat(1e8) }).length")]
    [InlineData("set_variable('v', { a: '\\0'.repeat(1e8) })")]
    [InlineData("llm_query({ a: '\\0'.repeat(1e8) })")]
    [InlineData("Array(1e4).fill(Array(1e4).fill(1)).flat().length")]
    [InlineData("[Array(1e4).fill(Array(1e4).fill([1]))].flat(3).length")]
    [InlineData("Array(1e9).flat().length")]
    public Task ExpandingBuiltIns_StopAtALimit(string code) => WedgeAsync(code, MemoryLimits);

    /// <summary>
    /// The caller gives up while one built-in does a long job: the call returns at once, and the script thread stops at
    /// the built-in's next check instead of running on with a core to the end of the job.
    /// </summary>
    [Theory]
    [InlineData("var a = Array.from({ length: 2e6 }, (_, i) => (i * 7919) % 1000003); for (;;) a.slice().sort((x, y) => x - y);")]
    [InlineData("var a = Array.from({ length: 5e5 }, (_, i) => ({ i, s: 'abcdefgh' + i })); for (;;) JSON.stringify(a);")]
    [InlineData("for (;;) [...'x'.repeat(3e7)];")]
    public async Task CallerCancellation_StopsTheScriptThread(string code)
    {
        using var sandbox = await SessionAsync(limits: Limits(timeout: TimeSpan.FromSeconds(60), memoryBytes: 1L << 30));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sandbox.ExecuteAsync(code, cts.Token).WaitAsync(HangGuard));
        await AssertStopsAsync(sandbox, code);
        await AssertRecoversAsync(sandbox);
    }

    [Theory]
    [InlineData("[3, 1, 2].sort((a, b) => a - b).join()", "1,2,3")]
    [InlineData("Array.from({ length: 1e5 }, (_, i) => 'k' + (i % 7)).sort().slice(0, 2).join()", "k0,k0")]
    [InlineData(LongSortSetup + "a.sort(); b.sort(byText); a.length === b.length && a.every((v, i) => Object.is(v, b[i])) && Object.keys(a).join() === Object.keys(b).join()", "true")]
    [InlineData(LongSortSetup + "const c = a.toSorted(); b = Array.from(b).sort(byText); c.length === b.length && c.every((v, i) => Object.is(v, b[i])) && a[5] === undefined", "true")]
    [InlineData("[10, 9, 1].sort().join()", "1,10,9")]
    [InlineData("JSON.stringify({ a: [1, { b: 2 }], c: 'x', d: undefined }, null, 1)", "{\n \"a\": [\n  1,\n  {\n   \"b\": 2\n  }\n ],\n \"c\": \"x\"\n}")]
    [InlineData("JSON.stringify({ a: 1, b: 2 }, (k, v) => k === 'b' ? undefined : v)", "{\"a\":1}")]
    [InlineData("JSON.stringify({ a: 1, b: 2 }, ['b'])", "{\"b\":2}")]
    [InlineData("'a b c'.replace(/(\\w)/g, '[$1]')", "[a] [b] [c]")]
    [InlineData("'x'.repeat(2e6).replace(/x/g, 'yy').length", "4000000")]
    [InlineData("[...'héllo'].length + Array.from('ab').length", "7")]
    [InlineData("const t = 'ab1 cd22 '.repeat(200000); const re = /\\d+|[a-z](?=\\d)/g; re.lastIndex = 5; const m = t.match(re); const r = t.slice(0, 90).match(/\\d+|[a-z](?=\\d)/g); [m.length, m.slice(0, r.length).join() === r.join(), re.lastIndex, 'x'.repeat(2e6).match(/y/g)].join()", "800000,true,0,")]
    [InlineData("const t = '\\u{1F600}a'.repeat(1500000); let n = 0; for (const c of t) n++; [[...t].length, n, [...t][2], Array.from(t.slice(0, 3)).length].join()", "3000000,3000000,\U0001F600,2")]
    [InlineData("const b = new Float64Array(70000); b.set([3, -0, NaN, 0, -1, 1e300, -Infinity]); b.sort(); [...b.slice(0, 4)].map(x => Object.is(x, -0) ? '-0' : String(x)).join() + '|' + b[69998] + '|' + b[69999]", "-Infinity,-1,-0,0|1e+300|NaN")]
    [InlineData("const s = new Float64Array([3, -0, NaN, 0, -1]); [...s.toSorted()].map(x => Object.is(x, -0) ? '-0' : String(x)).join() + '|' + [...new Int8Array([5, -3, 1]).sort((x, y) => y - x)].join()", "-1,-0,0,3,NaN|5,1,-3")]
    [InlineData("const a = new Float64Array(200000); for (let i = 0; i < a.length; i++) a[i] = ((i * 7919) % 100003) - 50000 + (i % 7 ? 0.5 : 0); a[3] = NaN; a[4] = -0; const b = a.toSorted(); const c = Array.from(a).sort((x, y) => Number.isNaN(x) ? 1 : Number.isNaN(y) ? -1 : x - y || (Object.is(x, -0) ? -1 : 0)); [b.every((v, i) => Object.is(v, c[i])), a[3] !== a[3], a.sort() === a && a.every((v, i) => Object.is(v, c[i]))].join()", "true,true,true")]
    [InlineData("const s = new Int16Array(70000); s[5] = -300; s[6] = 300; s.sort(); const g = new BigInt64Array(70000); g[5] = -3n; g[9] = 7n; g.sort(); [s[0], s[1], s[69999], g[0], g[69999], new Uint8Array([3, 1, 2]).sort().join('')].join()", "-300,0,300,-3,7,123")]
    [InlineData("const u = 'a\u00e9\u20ac\U0001F600 ;/?'; const t = u.repeat(300000); const e = encodeURIComponent(t); [e === encodeURIComponent(u).repeat(300000), encodeURI(t) === encodeURI(u).repeat(300000), decodeURIComponent(e) === t, unescape(escape(t)) === t, decodeURIComponent('%C3%A9%F0%9F%98%80'.repeat(300000)) === '\u00e9\U0001F600'.repeat(300000), encodeURIComponent('a b&c')].join()", "true,true,true,true,true,a%20b%26c")]
    [InlineData("const t = 'stra\u00dfe \u03a3'.repeat(300000); [t.toUpperCase() === 'stra\u00dfe \u03a3'.toUpperCase().repeat(300000), t.toLowerCase() === 'stra\u00dfe \u03a3'.toLowerCase().repeat(300000), 'e\u0301x'.repeat(600000).normalize() === 'e\u0301x'.normalize().repeat(600000)].join()", "true,true,true")]
    [InlineData("[[[1, [2, [3, [4]]]], 5, [], [6]].flat(2).length, [[1, [2]], [3]].flat().join('|'), JSON.stringify('a\"\\n'.repeat(500000)).length].join()", "5,1|2|3,2500002")]
    public async Task GuardedBuiltIns_GiveTheUsualResults(string code, string expected)
    {
        // Roomy: sorting the reference copy with a JavaScript comparator is slow on a loaded machine.
        var limits = Limits(timeout: TimeSpan.FromSeconds(20));
        using var sandbox = await SessionAsync(limits: limits);
        var (result, _) = await RunAsync(sandbox, code, Bound(limits));
        Assert.True(result.Error is null, result.Error);
        Assert.Equal(expected, result.Value);
    }
}
