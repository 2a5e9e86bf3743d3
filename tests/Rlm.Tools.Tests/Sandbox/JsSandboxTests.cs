using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Tests.Sandbox;

/// <summary>The sandbox's tests share one collection: the memory tests measure the process heap, so nothing else may run beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class JsSandboxCollection
{
    public const string Name = "JsSandbox";
}

[Collection(JsSandboxCollection.Name)]
public sealed class JsSandboxTests
{
    private const string Text = "alpha one\nbeta two\ngamma three\ndelta four\nBETA five";

    internal static JsLimits Limits(
        TimeSpan? timeout = null, int maxStatements = 10_000_000, int maxRecursionDepth = 64, long memoryBytes = 256L << 20, int maxOutputChars = 10_000) =>
        new(timeout ?? TimeSpan.FromSeconds(10), maxStatements, maxRecursionDepth, memoryBytes, maxOutputChars);

    private static async Task<JsExecutionResult> RunAsync(HostedSandbox sandbox, string code)
    {
        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);
        Assert.True(result.Error is null, $"unexpected error: {result.Error}");
        return result;
    }

    [Fact]
    public async Task Execute_GlobalFromOneCall_IsVisibleInTheNext()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        await RunAsync(sandbox, "var x = 1; function twice(n) { return 2 * n; }");
        var result = await RunAsync(sandbox, "twice(x + 1)");

        Assert.Equal("4", result.Value);
    }

    [Fact]
    public async Task Execute_PrintAndConsoleLog_AreCapturedOneLinePerCall()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, "print('a', 1, true, null, undefined); console.log({k: [1, 'x']}, [2, 3]); console.error('e')");

        Assert.Equal("a 1 true null undefined\n{\"k\":[1,\"x\"]} [2,3]\ne\n", result.Output);
        Assert.False(result.OutputTruncated);
        Assert.Null(result.Value);
    }

    [Fact]
    public async Task Execute_OutputOverTheCap_KeepsHeadAndTailWithOmittedCount()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits(maxOutputChars: 1_000));

        var result = await RunAsync(sandbox, "print('FIRST'); for (var i = 0; i < 10000; i++) { print('line ' + i); } print('LAST')");

        Assert.True(result.OutputTruncated);
        Assert.True(result.Output.Length <= 1_000, $"length {result.Output.Length}");
        Assert.StartsWith("FIRST\nline 0\n", result.Output);
        Assert.EndsWith("line 9999\nLAST\n", result.Output);
        Assert.Matches(@"\[\.\.\. [\d,]+ characters omitted \.\.\.\]", result.Output);
    }

    [Fact]
    public async Task Execute_OutputBeforeAnError_IsKept()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await sandbox.ExecuteAsync("print('before'); null.x; print('after')", CancellationToken.None);

        Assert.Equal("before\n", result.Output);
        Assert.NotNull(result.Error);
        Assert.Null(result.Value);
    }

    [Theory]
    [InlineData("1 + 2", "3")]
    [InlineData("'text'", "text")]
    [InlineData("[1, 'a', {b: null}]", "[1,\"a\",{\"b\":null}]")]
    [InlineData("({a: 1, nested: {c: [true]}})", "{\"a\":1,\"nested\":{\"c\":[true]}}")]
    [InlineData("null", "null")]
    [InlineData("0.5 * 3", "1.5")]
    [InlineData("new Error('bad')", "Error: bad")]
    [InlineData("/ab+c/gi", "/ab+c/gi")]
    [InlineData("for (var i = 0; i < 3; i++) { i * 10; }", "20")]
    public async Task Execute_CompletionValue_IsRenderedAsText(string code, string expected)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, code);

        Assert.Equal(expected, result.Value);
    }

    [Theory]
    [InlineData("undefined")]
    [InlineData("var y = 3;")]
    [InlineData("print('x')")]
    [InlineData("")]
    public async Task Execute_UndefinedCompletion_HasNullValue(string code)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, code);

        Assert.Null(result.Value);
    }

    [Fact]
    public async Task Execute_CircularObject_RendersWithoutFailing()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, "var o = {a: 1}; o.self = o; print(o); [o, o]");

        Assert.Equal("{\"a\":1,\"self\":\"[Circular]\"}\n", result.Output);
        Assert.Equal("[{\"a\":1,\"self\":\"[Circular]\"},{\"a\":1,\"self\":\"[Circular]\"}]", result.Value);
    }

    [Fact]
    public async Task Execute_LongValue_IsCappedWithHeadAndTail()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits(maxOutputChars: 500));

        var result = await RunAsync(sandbox, "var s = 'S'; for (var i = 0; i < 2000; i++) { s += 'x'; } s + 'E'");

        Assert.True(result.Value!.Length <= 500);
        Assert.StartsWith("Sxxx", result.Value);
        Assert.EndsWith("xxxE", result.Value);
        Assert.Contains("characters omitted", result.Value);
        Assert.False(result.OutputTruncated);
    }

    [Fact]
    public async Task Execute_Context_IsTheViewTextWithItsLength()
    {
        var host = new FakeJsHost(Text);
        using var sandbox = new HostedSandbox(host, Limits());

        var result = await RunAsync(sandbox, "context.length + '|' + context.split('\\n')[2]");

        Assert.Equal($"{host.View.Length}|gamma three", result.Value);
    }

    [Fact]
    public async Task Execute_ContextOfASlicedView_IsOnlyTheSlice()
    {
        var whole = new ContextView(ContextText.FromString(Text));
        var slice = whole.Slice(10, 18);
        using var sandbox = new HostedSandbox(new FakeJsHost(slice), Limits());

        var result = await RunAsync(sandbox, "context");

        Assert.Equal("beta two", result.Value);
    }

    [Fact]
    public async Task Execute_ContextAssigned_KeepsTheNewValueAcrossCalls()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        await RunAsync(sandbox, "context = context.toUpperCase();");
        var result = await RunAsync(sandbox, "context.slice(0, 5)");

        Assert.Equal("ALPHA", result.Value);
    }

    [Fact]
    public async Task Execute_Grep_ReturnsCaseInsensitiveHitsWithLineTextAndOffset()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, "JSON.stringify(grep('beta'))");

        Assert.Equal(
            "[{\"line\":1,\"text\":\"beta two\",\"offset\":10,\"document\":null,\"document_line\":null},"
            + "{\"line\":4,\"text\":\"BETA five\",\"offset\":42,\"document\":null,\"document_line\":null}]",
            result.Value);
    }

    [Fact]
    public async Task Execute_GrepWithMax_StopsAtMax()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, "var hits = grep(/a/, 2); hits.length + ':' + hits[1].line");

        Assert.Equal("2:1", result.Value);
    }

    [Fact]
    public async Task Execute_GrepOverDocuments_NamesTheDocumentAndItsLine()
    {
        var text = ContextText.FromDocuments([new RlmDocument("a.txt", "x\ny"), new RlmDocument("b.txt", "needle here")]);
        using var sandbox = new HostedSandbox(new FakeJsHost(new ContextView(text)), Limits());

        var result = await RunAsync(sandbox, "var h = grep('needle')[0]; h.document + ':' + h.document_line + ':' + h.line");

        Assert.Equal("b.txt:1:4", result.Value);
    }

    [Fact]
    public async Task Execute_GrepWithInvalidPattern_ThrowsACatchableJsError()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var caught = await RunAsync(sandbox, "try { grep('(unclosed'); 'no error' } catch (e) { e.name + ': ' + e.message }");
        var uncaught = await sandbox.ExecuteAsync("grep('[')", CancellationToken.None);

        Assert.StartsWith("SyntaxError: grep: invalid regular expression", caught.Value);
        Assert.StartsWith("SyntaxError: grep: invalid regular expression", uncaught.Error);
    }

    [Theory]
    [InlineData("lines(1, 3)", "beta two\ngamma three")]
    [InlineData("lines(3)", "delta four\nBETA five")]
    [InlineData("lines(-5, 1)", "alpha one")]
    [InlineData("lines(4, 100)", "BETA five")]
    [InlineData("lines(3, 3)", "")]
    [InlineData("lines(4, 2)", "")]
    public async Task Execute_Lines_ReturnsTheClampedHalfOpenRange(string code, string expected)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, code);

        Assert.Equal(expected, result.Value);
    }

    [Fact]
    public async Task Execute_SetVariable_StoresStringsAsIsAndOtherValuesAsJson()
    {
        var host = new FakeJsHost(Text);
        using var sandbox = new HostedSandbox(host, Limits());

        await RunAsync(sandbox, "set_variable('answer', 'forty-two'); set_variable('list', [1, 'a']); set_variable('n', 7)");

        Assert.True(host.Variables.TryGet("answer", out var answer));
        Assert.Equal("forty-two", answer);
        Assert.True(host.Variables.TryGet("list", out var list));
        Assert.Equal("[1,\"a\"]", list);
        Assert.True(host.Variables.TryGet("n", out var n));
        Assert.Equal("7", n);
    }

    [Fact]
    public async Task Execute_GetVariable_ReadsTheStoreAndGivesUndefinedForUnknownNames()
    {
        var host = new FakeJsHost(Text);
        host.Variables.Set("from_tool", "stored by a tool");
        using var sandbox = new HostedSandbox(host, Limits());

        var result = await RunAsync(sandbox, "get_variable('from_tool') + '|' + typeof get_variable('missing')");

        Assert.Equal("stored by a tool|undefined", result.Value);
    }

    [Theory]
    [InlineData("set_variable('bad name', 'x')")]
    [InlineData("set_variable('ok', undefined)")]
    [InlineData("get_variable(42)")]
    public async Task Execute_VariableMisuse_GivesAClearError(string code)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);

        Assert.NotNull(result.Error);
        Assert.Matches("^TypeError: (set|get)_variable: ", result.Error);
    }

    [Fact]
    public async Task Execute_LlmQuery_ReachesTheHostAndReturnsItsAnswer()
    {
        var host = new FakeJsHost(Text);
        using var sandbox = new HostedSandbox(host, Limits());

        var result = await RunAsync(sandbox, "llm_query('summarise: ' + lines(0, 1))");

        Assert.Equal("answer:summarise: alpha one", result.Value);
        Assert.Equal(["summarise: alpha one"], host.Prompts);
    }

    [Fact]
    public async Task Execute_LlmQueryBatched_SendsAllPromptsAndKeepsTheirOrder()
    {
        var host = new FakeJsHost(Text)
        {
            // Later prompts answer sooner: the order must come from the prompts, not from completion.
            Model = async (prompt, ct) =>
            {
                await Task.Delay(50 - (10 * int.Parse(prompt[1..], System.Globalization.CultureInfo.InvariantCulture)), ct);
                return "answer:" + prompt;
            },
        };
        using var sandbox = new HostedSandbox(host, Limits());

        var result = await RunAsync(sandbox, "var prompts = []; for (var i = 0; i < 5; i++) { prompts.push('p' + i); } llm_query_batched(prompts)");

        Assert.Equal("[\"answer:p0\",\"answer:p1\",\"answer:p2\",\"answer:p3\",\"answer:p4\"]", result.Value);
        var batch = Assert.Single(host.Batches);
        Assert.Equal(["p0", "p1", "p2", "p3", "p4"], batch);
    }

    [Fact]
    public async Task Execute_LlmQueryBatchedWithoutAnArray_GivesAClearError()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await sandbox.ExecuteAsync("llm_query_batched('one prompt')", CancellationToken.None);

        Assert.StartsWith("TypeError: llm_query_batched: pass an array", result.Error);
    }

    [Fact]
    public async Task Execute_SyntaxError_GivesLineAndColumn()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await sandbox.ExecuteAsync("let a = 1;\nlet b = ;", CancellationToken.None);

        Assert.NotNull(result.Error);
        Assert.StartsWith("SyntaxError: ", result.Error);
        Assert.EndsWith("(line 2, column 9: let b = ;)", result.Error);
        Assert.DoesNotContain("ES5", result.Error);
        Assert.Null(result.Value);
        Assert.Equal("", result.Output);
    }

    [Theory]
    [InlineData("const f = (a) => a + 1; f(2)", "3")]
    [InlineData("const n = 2; `hello ${n * 21}`", "hello 42")]
    [InlineData("class A { #x = 4; get x() { return this.#x; } } class B extends A { y() { return super.x * 2; } } new B().y()", "8")]
    [InlineData("const {a, b: [c, ...rest]} = {a: 1, b: [2, 3, 4]}; a + c + rest.length", "5")]
    [InlineData("const m = new Map([['x', 1]]); m.set('y', 2); const s = new Set([1, 1, 2]); m.size + s.size", "4")]
    [InlineData("[1, 2, 3].includes(2) && 'abc'.includes('b') && [...'hey'].length === 3", "true")]
    [InlineData("const o = {p: {q: null}}; (o.p?.q ?? 'dflt') + (o.x?.y ?? '!')", "dflt!")]
    [InlineData("function* g() { yield 1; yield 2; } [...g()].reduce((x, y) => x + y, 0)", "3")]
    [InlineData("Object.entries({a: 1, b: 2}).map(([k, v]) => k + v).join(',')", "a1,b2")]
    [InlineData("[3, 1, 2].toSorted().at(-1) + [[1, [2]], 3].flat(Infinity).length", "6")]
    [InlineData("'a-b-c'.replaceAll('-', '+').padStart(7, '*')", "**a+b+c")]
    [InlineData("2n ** 64n", "18446744073709551616n")]
    [InlineData("Object.groupBy([1, 2, 3, 4], x => x % 2 ? 'odd' : 'even').odd.length", "2")]
    [InlineData("let total = 0; (async () => { total = await Promise.resolve(41) + 1; })(); total", "0")]
    public async Task Execute_ModernJavaScript_Runs(string code, string expected)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, code);

        Assert.Equal(expected, result.Value);
    }

    [Fact]
    public async Task Execute_PromisesSettleBetweenCalls_AndAsyncCodeRuns()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        await RunAsync(sandbox, "var total = 0; (async () => { total = await Promise.resolve(41) + 1; })();");
        var result = await RunAsync(sandbox, "total");

        Assert.Equal("42", result.Value);
    }

    [Fact]
    public async Task Execute_LetAndConst_PersistAcrossCalls()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        await RunAsync(sandbox, "let a = 1; const b = 2;");
        var result = await RunAsync(sandbox, "a + b");

        Assert.Equal("3", result.Value);
    }

    [Fact]
    public async Task Execute_RuntimeError_GivesTheMessageAndTheLine()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await sandbox.ExecuteAsync("var a = 1;\nvar b = missing + 1;", CancellationToken.None);

        Assert.Equal("ReferenceError: missing is not defined (line 2, column 9: var b = missing + 1;)", result.Error);
    }

    [Theory]
    [InlineData("throw 'oops'", "Uncaught \"oops\" (line 1, column 7: throw 'oops')")]
    [InlineData("throw 42", "Uncaught 42 (line 1, column 7: throw 42)")]
    [InlineData("throw {message: 'custom', code: 7}", "Uncaught {\"message\":\"custom\",\"code\":7} (line 1, column 7: throw {message: 'custom', code: 7})")]
    [InlineData("throw {code: 7}", "Uncaught {\"code\":7} (line 1, column 7: throw {code: 7})")]
    [InlineData("throw null", "Uncaught null (line 1, column 7: throw null)")]
    public async Task Execute_ThrownNonError_IsReportedAsUncaught(string code, string expected)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);

        Assert.Equal(expected, result.Error);
    }

    [Fact]
    public async Task Execute_JoinOfManyLines_IsLinear()
    {
        // Jint 2's own join is quadratic: 30,000 lines took over 30 s and tens of GB of allocation.
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = await RunAsync(sandbox, "var rows = []; for (var i = 0; i < 30000; i++) { rows.push('row ' + i + ' of some text'); } [rows.join('\\n').length, String(rows).length, (rows + '').length]");

        Assert.Equal("[678889,678889,678889]", result.Value);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("[1, [2, 3], null, undefined, 'x'].join('-')", "1-2,3---x")]
    [InlineData("String([1, [2, [3]]])", "1,2,3")]
    [InlineData("[].join()", "")]
    [InlineData("new Array(4).join('ab')", "ababab")]
    [InlineData("Array.prototype.join.call({length: 2, 0: 'a', 1: 'b'}, '+')", "a+b")]
    [InlineData("var a = [1]; a.push(a); a.push(2); a.join('-')", "1--2")]
    [InlineData("new Array(10000).join('ab').length", "19998")]
    [InlineData("var a = new Array(5000); a[4000] = 'Y'; a[10] = 'X'; var j = a.join('-'); [j.length, j.indexOf('X'), j.indexOf('Y')].join()", "5001,10,4001")]
    [InlineData("Array.prototype[3] = 'P'; var j = new Array(5000).join(''); j", "P")]
    [InlineData("var a = new Array(5000); Object.defineProperty(a, '7', { get: function () { return 'G'; } }); a.join('')", "G")]
    public async Task Execute_Join_FollowsEs5(string code, string expected)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, code);

        Assert.Equal(expected, result.Value);
    }

    [Theory]
    [InlineData("System")]
    [InlineData("importNamespace")]
    [InlineData("require")]
    [InlineData("setTimeout")]
    [InlineData("XMLHttpRequest")]
    [InlineData("process")]
    public async Task Execute_ClrModulesAndIo_AreUndefined(string name)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, $"typeof {name}");

        Assert.Equal("undefined", result.Value);
    }

    [Theory]
    [InlineData("eval('1 + 1')")]
    [InlineData("new Function('return 1')")]
    [InlineData("(function () { }).constructor('return 1')")]
    [InlineData("(() => {}).constructor('return this')()")]
    [InlineData("(async function () {}).constructor('return 1')")]
    [InlineData("(function* () {}).constructor('yield 1')")]
    public async Task Execute_DynamicCode_IsRefused(string code)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);

        Assert.NotNull(result.Error);
        Assert.Contains("eval and the Function constructor are not available in exec_js", result.Error);
        Assert.Equal("2", (await RunAsync(sandbox, "1 + 1")).Value);
    }

    [Fact]
    public async Task Execute_FunctionsStillBehaveAsFunctions()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, "var f = function (a) { return a; }; [f instanceof Function, typeof f, f.call(null, 5), [3, 1, 2].sort(function (a, b) { return a - b; })]");

        Assert.Equal("[true,\"function\",5,[1,2,3]]", result.Value);
    }

    [Fact]
    public async Task Execute_HostFunctions_AreNotEnumerableGlobals()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, "var mine = 1; Object.keys(this).join(',')");

        Assert.Equal("mine", result.Value);
    }

    [Fact]
    public async Task Execute_LabelledContinueAndBreak_StillWork()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, """
            var out = [];
            outer: for (var i = 0; i < 3; i++) {
                for (var j = 0; j < 3; j++) {
                    if (j === 1) { continue outer; }
                    if (i === 2) { break outer; }
                    out.push(i + '' + j);
                }
            }
            var k = 0; do { k++; } while (k < 5);
            var keys = []; for (var key in {a: 1, b: 2}) { keys.push(key); }
            var w = 0; while (true) { if (++w > 3) { break; } }
            out.join(',') + '|' + k + '|' + keys.join('') + '|' + w
            """);

        Assert.Equal("00,10|5|ab|4", result.Value);
    }

    [Fact]
    public async Task Execute_DeeplyNestedCode_ReturnsAnErrorInsteadOfOverflowingTheStack()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());
        string code = string.Concat(Enumerable.Repeat("[(", 70_000)) + "1" + string.Concat(Enumerable.Repeat(")]", 70_000));

        var result = await sandbox.ExecuteAsync(code, CancellationToken.None);

        Assert.StartsWith("SyntaxError: ", result.Error);
        Assert.Contains("nest", result.Error);
        Assert.Equal("2", (await RunAsync(sandbox, "1 + 1")).Value);
    }

    [Fact]
    public async Task Execute_CodeOverTheMaximumLength_IsRefused()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await sandbox.ExecuteAsync("var a = '" + new string('x', JsSandbox.MaxCodeChars) + "';", CancellationToken.None);

        Assert.StartsWith("the code is 1,000,011 characters long; exec_js takes at most 1,000,000.", result.Error);
    }

    [Theory]
    [InlineData("'a1b22c333'.match(/\\d+/g)", "[\"1\",\"22\",\"333\"]")]
    [InlineData("'a1b22c333'.match('\\\\d\\\\d')", "[\"22\"]")]
    [InlineData("'a1b22c333'.replace(/(\\d)+/g, '<$1>')", "a<1>b<2>c<3>")]
    [InlineData("'a, b,c'.split(/\\s*,\\s*/)", "[\"a\",\"b\",\"c\"]")]
    [InlineData("'x-y'.split('-')", "[\"x\",\"y\"]")]
    [InlineData("'hello'.search('l+')", "2")]
    [InlineData("var r = /o(\\w)/g; r.exec('foo bow'); var m = r.exec('foo bow'); [m[0], m[1], r.lastIndex]", "[\"ow\",\"w\",7]")]
    [InlineData("/^B/im.test('a\\nb')", "true")]
    [InlineData("'aaa'.replace('a', function (m) { return m.toUpperCase(); })", "Aaa")]
    public async Task Execute_RegularExpressions_StillWork(string code, string expected)
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var result = await RunAsync(sandbox, code);

        Assert.Equal(expected, result.Value);
    }

    [Fact]
    public async Task Execute_JsonParse_ParsesAndRefusesDeepNesting()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());

        var parsed = await RunAsync(sandbox, "JSON.parse('{\"a\": [1, {\"b\": \"[[[\"}]}').a[1].b");
        var deep = await RunAsync(sandbox, "try { JSON.parse('['.repeat(1e6) + ']'.repeat(1e6)); } catch (e) { e.name + ': ' + e.message }");

        Assert.Equal("[[[", parsed.Value);
        Assert.StartsWith("SyntaxError: Max. depth level of JSON reached", deep.Value);
    }

    [Fact]
    public async Task Execute_ConcurrentCalls_TakeTurnsOnOneEngine()
    {
        using var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());
        await RunAsync(sandbox, "var counter = 0;");

        var calls = Enumerable.Range(0, 8).Select(_ => sandbox.ExecuteAsync("for (var i = 0; i < 1000; i++) { counter++; } counter", CancellationToken.None));
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.Null(r.Error));
        Assert.Equal("8000", (await RunAsync(sandbox, "counter")).Value);
    }

    [Fact]
    public async Task Execute_AfterDispose_Throws()
    {
        var sandbox = new HostedSandbox(new FakeJsHost(Text), Limits());
        sandbox.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => sandbox.ExecuteAsync("1", CancellationToken.None));
    }
}
