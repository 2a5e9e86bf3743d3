using System.Text.Json;
using Json.Schema;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// Real output against docs/schema: <c>rlm --json</c> and the trajectory of real runs (the built <c>rlm</c> with the offline
/// model, and the library over documents, so there are sub-calls and leaves) validate against the JSON Schemas, and both
/// documents name what they share alike.
/// </summary>
public sealed class JsonSchemaTests
{
    private const string Question = "which error codes are reported?";

    private static readonly BuildOptions s_build = new() { SchemaRegistry = new SchemaRegistry() };

    private static readonly Lazy<(JsonSchema Result, JsonSchema Trajectory)> s_schemas = new(() =>
    {
        string folder = Path.Combine(RlmProcess.RepositoryRoot, "docs", "schema");
        // Given sibling base URIs, so the trajectory schema's "rlm-result.schema.json#/$defs/…" refers to the other file.
        // Not file: URIs: JsonSchema.Net resolves "#/…" against them as "%23/…".
        JsonSchema Load(string name) => JsonSchema.FromText(File.ReadAllText(Path.Combine(folder, name)), s_build, new Uri("https://schema.test/" + name));
        return (Load("rlm-result.schema.json"), Load("rlm-trajectory.schema.json"));
    });

    /// <summary>Asserts that an <c>rlm --json</c> document matches rlm-result.schema.json.</summary>
    internal static void AssertValidResult(string json, string what) => AssertValid(s_schemas.Value.Result, json, what);

    /// <summary>Asserts that every line of a trajectory matches rlm-trajectory.schema.json.</summary>
    internal static void AssertValidTrajectory(string text, string what) => AssertTrajectoryValid(text, what);

    private static void AssertValid(JsonSchema schema, string json, string what)
    {
        using var document = JsonDocument.Parse(json);
        var results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(results.IsValid, $"{what} does not match the schema:\n{Errors(results)}\n{json[..Math.Min(json.Length, 2000)]}");
    }

    private static string Errors(EvaluationResults results) => string.Join('\n',
        (results.Details ?? []).Prepend(results).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"  {d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}")));

    private static void AssertTrajectoryValid(string text, string what)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 1, what);
        foreach (string line in lines)
        {
            AssertValid(s_schemas.Value.Trajectory, line, what);
        }
    }

    [Fact]
    public async Task Cli_JsonAndTrajectory_OfARealRun_MatchTheSchemas()
    {
        using var dir = new TempDirectory();
        dir.WriteText("docs/a.txt", "The error code is E10 in module alpha.\n");
        dir.WriteText("docs/b.txt", "The error code is E20 in module beta.\n");
        dir.WriteText("docs/.env", "hidden: listed in input.skipped\n");
        dir.WriteBytes("docs/c.txt", System.Text.Encoding.Latin1.GetBytes("Le code d'erreur à Zürich est E30.\n")); // input.decoded
        using (var gzipped = new MemoryStream())
        {
            using (var gzip = new System.IO.Compression.GZipStream(gzipped, System.IO.Compression.CompressionLevel.Fastest))
            {
                gzip.Write("The error code is E40 in module delta.\n"u8);
            }

            dir.WriteBytes("docs/d.txt.gz", gzipped.ToArray());
        }

        dir.WriteBytes("docs/e.zst", [0x28, 0xB5, 0x2F, 0xFD, 0x04, 0x00, 0x00, 0x00]); // skipped as compressed
        string path = Path.Combine(dir.Path, "t.jsonl");

        var run = await RlmProcess.RunAsync([Question, "--dir", Path.Combine(dir.Path, "docs"), "--offline", "--json", "--trajectory", path]);

        Assert.True(run.ExitCode == 0, run.ToString());
        AssertValid(s_schemas.Value.Result, run.StdOut, "rlm --json");
        string trajectory = await File.ReadAllTextAsync(path);
        AssertTrajectoryValid(trajectory, "rlm --trajectory");

        // What both documents hold is written alike.
        using var result = JsonDocument.Parse(run.StdOut);
        Assert.Equal(1, result.RootElement.GetProperty("input").GetProperty("skipped_counts").GetProperty("hidden").GetInt32());
        Assert.Equal(1, result.RootElement.GetProperty("input").GetProperty("skipped_counts").GetProperty("compressed").GetInt32());
        Assert.Equal(2, result.RootElement.GetProperty("input").GetProperty("decoded").GetArrayLength());
        var runLine = RlmTrajectoryReader.Read(new StringReader(trajectory)).Run;
        foreach (string key in new[] { "stop_reason", "is_final", "usage", "usage_by_model", "cost_usd" })
        {
            Assert.True(JsonElement.DeepEquals(result.RootElement.GetProperty(key), runLine.GetProperty(key)), key);
        }

        var statistics = result.RootElement.GetProperty("statistics");
        Assert.Equal(
            statistics.EnumerateObject().Select(p => p.Name),
            runLine.GetProperty("statistics").EnumerateObject().Select(p => p.Name));
        Assert.Equal(statistics.GetProperty("max_depth_reached").GetInt32(), runLine.GetProperty("statistics").GetProperty("max_depth_reached").GetInt32());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Library_TrajectoryOfARunWithSubCalls_MatchesTheSchema(bool sensitive)
    {
        var documents = Enumerable.Range(0, 4).Select(i => new RlmDocument(
            $"doc{i}.txt",
            string.Concat(Enumerable.Range(0, 2000).Select(j => $"Line {j} of report {i}: filler text about systems.\n")) +
            $"The error code is E{i}0 in module alpha.\n")).ToList();
        var result = await new RecursiveLanguageModel(new OfflineChatClient()).QueryAsync(Question, documents);
        Assert.True(result.Statistics.SubCalls > 0, "the run should make sub-calls");

        var text = new StringWriter { NewLine = "\n" };
        RlmTrajectoryWriter.WriteJsonLines(result, text, new RlmTrajectoryOptions { IncludeSensitiveData = sensitive, Question = Question });

        AssertTrajectoryValid(text.ToString(), $"trajectory (sensitive: {sensitive})");
        Assert.Contains("\"kind\":\"leaf\"", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_StopReasons_AreTheNamesOfTheOneTable()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(RlmProcess.RepositoryRoot, "docs", "schema", "rlm-result.schema.json")));
        var names = schema.RootElement.GetProperty("$defs").GetProperty("stop_reason").GetProperty("enum").EnumerateArray().Select(e => e.GetString());

        Assert.Equal(Enum.GetValues<RlmStopReason>().Select(RlmStopReasonText.GetName), names);
    }

    [Fact]
    public void Reader_AVersion1Trajectory_ReadsInTheCurrentKeys()
    {
        const string version1 = """
            {"type":"run","format":"rlm-trajectory","version":1,"stop_reason":"iteration_limit","is_final":false,"sensitive":false,"usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":2,"total_tokens":12},"usage_by_model":{},"statistics":{"iterations":3,"root_iterations":3,"model_calls":4,"model_retries":0,"failed_model_calls":0,"sub_calls":2,"failed_sub_calls":2,"memoized_sub_calls":0,"compactions":0,"max_depth_reached":1,"peak_concurrency":2,"wall_ms":321.5,"tool_calls":{"grep":2,"sub_llm":2}}}
            {"type":"node","id":1,"parent_id":null,"kind":"session","label":"query","depth":0,"started_ms":0,"duration_ms":321.5,"is_error":false}
            """;

        var trajectory = RlmTrajectoryReader.Read(new StringReader(version1));

        var statistics = trajectory.Run.GetProperty("statistics");
        Assert.Equal(321.5, statistics.GetProperty("wall_time_ms").GetDouble());
        Assert.False(statistics.TryGetProperty("wall_ms", out _));
        Assert.Equal(4, statistics.GetProperty("tool_calls_total").GetInt32());
        Assert.True(statistics.GetProperty("all_sub_calls_failed").GetBoolean());
        Assert.Equal(2, trajectory.Run.GetProperty("version").GetInt32());
        Assert.Equal("iteration_limit", trajectory.Run.GetProperty("stop_reason").GetString());
        AssertValid(s_schemas.Value.Trajectory, trajectory.Run.GetRawText(), "an upgraded version 1 run line");
        Assert.Equal("session", Assert.Single(trajectory.Nodes).Kind);
    }
}
