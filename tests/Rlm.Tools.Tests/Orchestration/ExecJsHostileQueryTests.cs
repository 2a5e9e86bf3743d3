using System.Diagnostics;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// Hostile scripts through the public API: a scripted root model sends each one to <c>exec_js</c> in a real
/// <see cref="RecursiveLanguageModel.QueryAsync(string, string, CancellationToken)"/> with the default limits except a
/// 2 s script time. The call must come back as an error the model reads within the limit + 1 s (plus slack for a loaded
/// machine), and the same session's next <c>exec_js</c> must still compute <c>1+1</c> and see the global set before.
/// </summary>
[Collection(Rlm.Tools.Tests.Sandbox.JsSandboxCollection.Name)]
public sealed class ExecJsHostileQueryTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(2);

    public static TheoryData<string> Families() => new(
    [
        "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)",
        "Atomics.wait(new Int32Array(new ArrayBuffer(4)), 0, 0)",
        "new FinalizationRegistry(() => { while (true) {} }).register({}, 1); for (let i = 0; i < 1e6; i++) ({}); 'x'",
        "let x = 3n; for (;;) x *= x;",
        "2n ** 10000000n",
        "[...'x'.repeat(1e8)].length",
        "Array.from('x'.repeat(1e8)).length",
        "'a'.repeat(1e6).replace(/a/g, 'x'.repeat(1000)).length",
        "'a'.repeat(1e6).replaceAll('a', 'x'.repeat(1000)).length",
        "Array(2e7).fill('abc').join('x'.repeat(100)).length",
        "JSON.stringify(Array.from({ length: 2e6 }, (_, i) => ({ i, s: 'v' + i, a: [i, i] }))).length",
        "Array.from({ length: 3e6 }, (_, i) => (i * 7919) % 3e6).sort((a, b) => a - b)[0]",
        "new Float64Array(4e8).length",
        "new ArrayBuffer(2 ** 31).byteLength",
    ]);

    [Theory]
    [MemberData(nameof(Families))]
    public async Task AHostileScript_EndsInAnErrorWithinItsLimit_AndTheSessionStaysUsable(string code)
    {
        var clock = new Stopwatch();
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("exec_js", new { code = "var before = 41;" })),
            _ =>
            {
                clock.Start();
                return TestChatClient.Calls(("exec_js", new { code }));
            },
            _ =>
            {
                clock.Stop();
                return TestChatClient.Calls(("exec_js", new { code = "1 + before" }));
            },
            _ => TestChatClient.Calls(("final", new { answer = "done" })));
        var options = new RlmOptions { JavaScriptTimeout = s_limit };

        var result = await new RecursiveLanguageModel(root, options: options).QueryAsync("q", "some context\n").WaitAsync(TimeSpan.FromSeconds(60));

        string hostile = TestChatClient.LastToolResults(root.Requests[2])[0];
        Assert.StartsWith("Error:", hostile);
        Assert.True(clock.Elapsed < s_limit + TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(2), $"took {clock.Elapsed.TotalSeconds:0.00} s: {hostile}");
        Assert.Contains("42", TestChatClient.LastToolResults(root.Requests[3])[0]);
        Assert.Equal("done", result.Answer);
    }
}
