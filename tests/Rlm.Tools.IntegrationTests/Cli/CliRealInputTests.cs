using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// The <c>rlm</c> command on real input, offline: this repository's own source tree and the machine's Debian changelogs.
/// The questions have answers the tests know from the data.
/// </summary>
public sealed class CliRealInputTests(ITestOutputHelper output)
{
    private const string Question = "Which file declares the class ModelDispatcher?";

    [Fact]
    public async Task Dir_RepositorySource_AnswersWhichFileDeclaresModelDispatcher()
    {
        string src = Path.Combine(RlmProcess.RepositoryRoot, "src");

        var result = await RlmProcess.RunAsync(Question, "--dir", src);

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Orchestration/ModelDispatcher.cs", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("class ModelDispatcher", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("offline model", result.StdErr, StringComparison.Ordinal);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Dir_RepositorySource_Verbose_ProgressTraceAndStatisticsOnStderr_AnswerAloneOnStdout()
    {
        string src = Path.Combine(RlmProcess.RepositoryRoot, "src");

        var result = await RlmProcess.RunAsync(Question, "--dir", src, "-v");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());

        // stdout: the answer and nothing else.
        Assert.StartsWith(OfflineChatClient.AnswerPrefix, result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Orchestration/ModelDispatcher.cs", result.StdOut, StringComparison.Ordinal);
        foreach (var noise in new[] { "Execution trace", "iter 1:", "Model calls:", "Tokens:", "rlm: ", "──" })
        {
            Assert.DoesNotContain(noise, result.StdOut, StringComparison.Ordinal);
        }

        // stderr: header, live progress, then the trace tree, then the statistics block, in that order.
        string err = result.StdErr;
        int header = IndexOf(err, "Context: ");
        int progress = IndexOf(err, "iter 1: calling rlm-offline (root)...");
        int trace = IndexOf(err, "Execution trace:");
        int stats = IndexOf(err, "Model calls: ");
        Assert.True(header < progress && progress < trace && trace < stats, err);
        Assert.Contains("Root model: offline/rlm-offline", err, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"Context: [\d,]+ chars, [\d,]+ lines, \d+ documents"), err);
        Assert.Matches(new Regex(@"\n(├|└)── model call #1 \(root\) [\d,]+ ms"), err); // 1,344 ms on a loaded machine
        Assert.Matches(new Regex(@"(├|└)── grep\(pattern=""ModelDispatcher"".*[\d,]+ ms"), err);
        Assert.Matches(new Regex(@"Tokens: [\d,]+ in / [\d,]+ out"), err);
        Assert.Matches(new Regex(@"Time: \d+\.\d\ds"), err);
        Assert.Matches(new Regex(@"Tools: .*final:1.*grep:\d+"), err);
        Assert.Matches(new Regex(@"Sub-calls: \d+ \(0 failed\)  │  Max depth: 1"), err);
        RlmProcess.AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Dir_RepositorySource_VerboseJson_StatisticsBlockMatchesJsonStatistics()
    {
        string src = Path.Combine(RlmProcess.RepositoryRoot, "src");

        var result = await RlmProcess.RunAsync(Question, "--dir", src, "-v", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        var stats = json.RootElement.GetProperty("statistics");
        var usage = json.RootElement.GetProperty("usage");
        string err = result.StdErr;
        Assert.Contains($"Model calls: {stats.GetProperty("model_calls").GetInt32():N0} ({stats.GetProperty("model_retries").GetInt32():N0} retries, {stats.GetProperty("failed_model_calls").GetInt32():N0} failed)  │", err, StringComparison.Ordinal);
        Assert.False(json.RootElement.GetProperty("statistics").GetProperty("all_sub_calls_failed").GetBoolean());
        Assert.Contains($"Iterations: {stats.GetProperty("iterations").GetInt32():N0} (root", err, StringComparison.Ordinal);
        Assert.Contains($"Tool calls: {stats.GetProperty("tool_calls_total").GetInt32():N0}", err, StringComparison.Ordinal);
        Assert.Contains($"Sub-calls: {stats.GetProperty("sub_calls").GetInt32():N0} (", err, StringComparison.Ordinal);
        Assert.Contains($"Tokens: {usage.GetProperty("input_tokens").GetInt64():N0} in / {usage.GetProperty("output_tokens").GetInt64():N0} out", err, StringComparison.Ordinal);
        string tools = string.Join(", ", stats.GetProperty("tool_calls").EnumerateObject().Select(p => $"{p.Name}:{p.Value.GetInt32()}"));
        Assert.Contains($"Tools: {tools}", err, StringComparison.Ordinal);
        Assert.Contains("Orchestration/ModelDispatcher.cs", json.RootElement.GetProperty("answer").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_DebianChangelogs_SeveralMegabytes_FindsTheOneLineAboutARareCve()
    {
        var changelogs = Directory.Exists("/usr/share/doc")
            ? Directory.GetDirectories("/usr/share/doc").Select(d => Path.Combine(d, "changelog.Debian.gz")).Where(File.Exists).Order(StringComparer.Ordinal).ToList()
            : [];
        if (changelogs.Count == 0)
        {
            output.WriteLine("SKIPPED: this machine has no /usr/share/doc/*/changelog.Debian.gz files.");
            return;
        }

        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "changelogs.txt");
        var text = new StringBuilder();
        foreach (var file in changelogs)
        {
            using var gzip = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            text.Append(await reader.ReadToEndAsync());
            if (text.Length > 4_000_000)
            {
                break;
            }
        }

        await File.WriteAllTextAsync(path, text.ToString());
        long size = new FileInfo(path).Length;
        output.WriteLine($"{changelogs.Count} changelogs, {size:N0} bytes written");
        if (size <= 1_000_000)
        {
            output.WriteLine($"SKIPPED: the machine's changelogs hold only {size:N0} bytes, not several MB.");
            return;
        }

        // A CVE id that occurs on exactly one line of the whole file: the answer must find that line among ~100,000.
        string[] lines = text.ToString().Split('\n');
        var cve = new Regex(@"CVE-\d{4}-\d{4,}");
        var single = lines.Select((line, index) => (line, index))
            .SelectMany(l => cve.Matches(l.line).Select(m => (Id: m.Value, l.line, l.index)))
            .GroupBy(x => x.Id)
            .Where(g => g.Select(x => x.index).Distinct().Count() == 1 && g.First().line.Trim().Length >= 20)
            .Select(g => g.First())
            .OrderBy(x => x.index)
            .FirstOrDefault();
        if (single.Id is null)
        {
            output.WriteLine("SKIPPED: no CVE id occurs on exactly one line of the changelogs.");
            return;
        }

        output.WriteLine($"question about {single.Id}: line {single.index}: {single.line.Trim()}");

        var result = await RlmProcess.RunAsync($"What does the changelog say about {single.Id}?", "--file", path);

        output.WriteLine(result.ToString());
        Assert.True(size > 1_000_000);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(single.line.Trim(), result.StdOut, StringComparison.Ordinal);
        Assert.Contains($"(line {single.index + 1})", result.StdOut, StringComparison.Ordinal); // 1-based, as grep -n counts
        RlmProcess.AssertNoStackTrace(result);
    }

    private static int IndexOf(string text, string value)
    {
        int index = text.IndexOf(value, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{value}' not found in:\n{text}");
        return index;
    }
}
