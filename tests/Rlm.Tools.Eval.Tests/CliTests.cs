using Rlm.Tools.Eval.Cli;

namespace Rlm.Tools.Eval.Tests;

public class CliTests
{
    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await EvalCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("generate", "--family", "nope", "--tokens", "2k", "--out", "x.jsonl")]
    [InlineData("generate", "--family", "s-niah", "--tokens", "12", "--out", "x.jsonl")]
    [InlineData("generate", "--family", "s-niah", "--tokens", "2m", "--out", "x.jsonl")]
    [InlineData("generate", "--family", "s-niah", "--tokens", "lots", "--out", "x.jsonl")]
    [InlineData("generate", "--family", "s-niah", "--tokens", "2k", "--count", "0", "--out", "x.jsonl")]
    [InlineData("generate", "--family", "s-niah", "--tokens", "2k")]
    [InlineData("generate", "--family", "s-niah", "--tokens", "2k", "--out", "x.jsonl", "--haystack", "essay")]
    [InlineData("run", "--tasks", "does-not-exist.jsonl", "--mode", "offline", "--out", "r.jsonl")]
    [InlineData("run", "--tasks", "x.jsonl", "--mode", "sideways", "--out", "r.jsonl")]
    [InlineData("run", "--tasks", "x.jsonl", "--mode", "direct", "--out", "r.jsonl", "--base-url", "ftp://example.com")]
    [InlineData("report", "no-such-results.jsonl")]
    [InlineData("report")]
    [InlineData("frobnicate")]
    [InlineData]
    public async Task Bad_input_is_one_line_on_stderr_and_exit_code_two(params string[] args)
    {
        var (code, _, err) = await Run(args);
        Assert.Equal(EvalCli.BadInput, code);
        Assert.StartsWith("rlm-eval: ", err);
        Assert.Single(err.TrimEnd('\n', '\r').Split('\n'));
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public async Task Run_without_a_model_for_an_endpoint_mode_is_bad_input()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "t.jsonl");
        Assert.Equal(0, (await Run("generate", "--family", "logs", "--tokens", "1k", "--count", "1", "--out", tasks)).Code);

        var (code, _, err) = await Run("run", "--tasks", tasks, "--mode", "rlm", "--out", Path.Combine(dir, "r.jsonl"));
        Assert.Equal(EvalCli.BadInput, code);
        Assert.Contains("--model is required", err);
    }

    [Fact]
    public async Task A_broken_tasks_file_is_bad_input()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "t.jsonl");
        File.WriteAllText(tasks, "{\"id\": \"x\"\n");
        var (code, _, err) = await Run("run", "--tasks", tasks, "--mode", "offline", "--out", Path.Combine(dir, "r.jsonl"));
        Assert.Equal(EvalCli.BadInput, code);
        Assert.Contains("t.jsonl:1", err);
    }

    [Fact]
    public async Task Generate_accepts_several_families_and_lengths()
    {
        var dir = TestSupport.TempDirectory();
        var tasks = Path.Combine(dir, "t.jsonl");
        var (code, output, _) = await Run("generate", "--family", "s-niah,logs", "--tokens", "1k,2k", "--count", "2", "--out", tasks);
        Assert.Equal(0, code);
        Assert.Contains("wrote 8 tasks", output);
        Assert.Equal(8, File.ReadAllLines(tasks).Length);
    }

    [Fact]
    public async Task Help_lists_the_three_commands()
    {
        var (code, output, _) = await Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("generate", output);
        Assert.Contains("run", output);
        Assert.Contains("report", output);
    }
}
