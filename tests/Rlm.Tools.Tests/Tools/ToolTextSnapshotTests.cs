using System.Runtime.CompilerServices;
using System.Text.Json;
using Rlm.Tools.Context;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Tools;

/// <summary>
/// The text the model reads for a fixed set of calls, byte for byte, against Snapshots/tool-texts.json (recorded from the
/// prose-building tools before results became typed records). Set RLM_WRITE_TOOL_SNAPSHOTS=1 to record it again.
/// </summary>
public class ToolTextSnapshotTests
{
    private static readonly string s_lines = string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i:D3} {(i % 10 == 0 ? "ERROR disk full" : "ok")}\n"));

    private static readonly string s_path = Path.Combine(Path.GetDirectoryName(SourceFile())!, "Snapshots", "tool-texts.json");

    private static ToolHarness Lines(int maxOutput = 20_000) => new(s_lines, new RlmOptions { MaxToolOutputChars = maxOutput });

    private static ToolHarness Documents() =>
        new(new ContextView(ContextText.FromDocuments([new RlmDocument("one.txt", "alpha\nbeta needle\ngamma"), new RlmDocument("src/two.cs", "class Needle {}\n// needle again\n")])));

    private static IEnumerable<(string Name, Func<Task<(string Text, bool IsError, string? Final)>> Run)> Cases()
    {
        static async Task<(string, bool, string?)> Run(ToolHarness h, string tool, object args)
        {
            var r = await h.RunAsync(tool, args);
            return (r.Text, r.IsError, r.FinalAnswer);
        }

        yield return ("peek", () => Run(Lines(), "peek", new { start = 5, end = 60 }));
        yield return ("peek clamped", () => Run(Lines(), "peek", new { start = -3, end = 99_999 }));
        yield return ("peek reversed", () => Run(Lines(), "peek", new { start = 50, end = 10 }));
        yield return ("peek capped", () => Run(Lines(1_000), "peek", new { start = 0, end = 3_000 }));
        yield return ("peek_lines", () => Run(Lines(), "peek_lines", new { start = 3, end = 7 }));
        yield return ("peek_lines clamped", () => Run(Lines(), "peek_lines", new { start = 98, end = 120 }));
        yield return ("peek_lines empty", () => Run(Lines(), "peek_lines", new { start = 200, end = 300 }));
        yield return ("peek_lines documents", () => Run(Documents(), "peek_lines", new { start = 3, end = 5 }));
        yield return ("peek_lines stopped", () => Run(new ToolHarness(string.Concat(Enumerable.Repeat(s_lines, 3)), new RlmOptions { MaxToolOutputChars = 1_000 }), "peek_lines", new { start = 0, end = 300 }));
        yield return ("peek_lines long line", () => Run(new ToolHarness(new string('q', 2_500) + "\nshort"), "peek_lines", new { start = 0, end = 2 }));
        yield return ("grep", () => Run(Lines(), "grep", new { pattern = "error" }));
        yield return ("grep first 3", () => Run(Lines(), "grep", new { pattern = "error", max_results = 3 }));
        yield return ("grep one", () => Run(Lines(), "grep", new { pattern = "line 042" }));
        yield return ("grep none", () => Run(Lines(), "grep", new { pattern = "error", ignore_case = false }));
        yield return ("grep context", () => Run(Lines(), "grep", new { pattern = "line 0[45]0|line 051", context_lines = 2 }));
        yield return ("grep clamped", () => Run(Lines(), "grep", new { pattern = "ok$", max_results = 5_000, context_lines = 99 }));
        yield return ("grep clamped low", () => Run(Lines(), "grep", new { pattern = "ok$", max_results = 0, context_lines = -1 }));
        yield return ("grep documents", () => Run(Documents(), "grep", new { pattern = "needle", context_lines = 1 }));
        yield return ("grep invalid", () => Run(Lines(), "grep", new { pattern = "(unclosed" }));
        yield return ("grep bad bool", () => Run(Lines(), "grep", new { pattern = "x", ignore_case = "maybe" }));
        yield return ("grep capped", () => Run(Lines(1_000), "grep", new { pattern = "line", max_results = 100 }));
        yield return ("chunk", () => Run(Lines(), "chunk", new { chunk_size = 700 }));
        yield return ("chunk overlap", () => Run(Lines(), "chunk", new { chunk_size = 1_200, overlap = 100 }));
        yield return ("chunk one", () => Run(Lines(), "chunk", new { chunk_size = 100_000 }));
        yield return ("chunk zero", () => Run(Lines(), "chunk", new { chunk_size = 0 }));
        yield return ("chunk overlap too big", () => Run(Lines(), "chunk", new { chunk_size = 10, overlap = 10 }));
        yield return ("chunk too many", () => Run(new ToolHarness(new string('x', 20_001)), "chunk", new { chunk_size = 2 }));
        yield return ("sub_llm", () => Run(Lines(), "sub_llm", new { query = "what?", start = 10, end = 40 }));
        yield return ("sub_llm clamped", () => Run(Lines(), "sub_llm", new { query = "what?", start = -10, end = 99_999 }));
        yield return ("sub_llm empty range", () => Run(Lines(), "sub_llm", new { query = "q", start = 9_000, end = 9_999 }));
        yield return ("sub_llm empty query", () => Run(Lines(), "sub_llm", new { query = " ", start = 0, end = 9 }));
        yield return ("exec_js output and value", () => Run(Lines(), "exec_js", new { code = "print('hi'); 1 + 2" }));
        yield return ("exec_js value", () => Run(Lines(), "exec_js", new { code = "context.length" }));
        yield return ("exec_js nothing", () => Run(Lines(), "exec_js", new { code = "let a = 1;" }));
        yield return ("exec_js error", () => Run(Lines(), "exec_js", new { code = "print('before');\nnope();" }));
        yield return ("exec_js syntax", () => Run(Lines(), "exec_js", new { code = "let = ;" }));
        yield return ("set_variable", () => Run(Lines(), "set_variable", new { name = "partial", value = "42 items" }));
        yield return ("set_variable invalid", () => Run(Lines(), "set_variable", new { name = "bad name!", value = "v" }));
        yield return ("get_variable missing", () => Run(Lines(), "get_variable", new { name = "nothing" }));
        yield return ("final", () => Run(Lines(), "final", new { answer = "It is 42." }));
        yield return ("final empty", () => Run(Lines(), "final", new { answer = "" }));
        yield return ("final_var missing", () => Run(Lines(), "final_var", new { name = "nothing" }));
        yield return ("missing argument", () => Run(Lines(), "peek", new { start = 0 }));
        yield return ("mistyped argument", () => Run(Lines(), "peek", new { start = "zero", end = 2 }));
        yield return ("double argument", () => Run(Lines(), "peek", new { start = 1.0, end = 4.0 }));
        yield return ("string number argument", () => Run(Lines(), "peek", new { start = " 2 ", end = "6" }));
        yield return ("missing string", () => Run(Lines(), "grep", new { max_results = 3 }));
        yield return ("no arguments", () => Run(Lines(), "final", new { }));
        yield return ("variables round trip", async () =>
        {
            var h = Lines();
            h.Variables.Set("known", "value one");
            var got = await h.RunAsync("get_variable", new { name = "known" });
            var missing = await h.RunAsync("get_variable", new { name = "unknown" });
            var final = await h.RunAsync("final_var", new { name = "known" });
            return (got.Text + "\n--\n" + missing.Text + "\n--\n" + final.Text, missing.IsError, final.FinalAnswer);
        });
    }

    /// <summary>This file's path where it was compiled: the snapshot is read from the source tree, not copied to the output.</summary>
    internal static string SourceFile([CallerFilePath] string path = "") => path;

    [Fact]
    public async Task ToolTexts_AreByteIdenticalToTheSnapshot()
    {
        var actual = new Dictionary<string, JsonElement>();
        foreach (var (name, run) in Cases())
        {
            var (text, isError, final) = await run();
            actual[name] = JsonSerializer.SerializeToElement(new { text, isError, final });
        }

        if (Environment.GetEnvironmentVariable("RLM_WRITE_TOOL_SNAPSHOTS") == "1")
        {
            File.WriteAllText(s_path, JsonSerializer.Serialize(actual, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            return;
        }

        var expected = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(s_path))!;
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, value) in expected)
        {
            Assert.True(JsonElement.DeepEquals(value, actual[name]), $"{name}:\nexpected {value.GetRawText()}\nactual   {actual[name].GetRawText()}");
        }
    }
}
