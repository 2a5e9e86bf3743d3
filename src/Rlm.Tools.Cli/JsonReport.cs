using System.Text.Json;
using Rlm.Tools.Json;

namespace Rlm.Tools.Cli;

/// <summary>
/// Writes the <c>--json</c> report: one JSON object (format <c>rlm-result</c>) with the answer, stop reason, models,
/// input, usage, statistics and trajectory tree. Its types and keys are the core's JSON contract (<see cref="RunJson"/>),
/// shared with the trajectory file; docs/schema/rlm-result.schema.json describes it.
/// </summary>
internal static class JsonReport
{
    /// <summary>Writes the report for <paramref name="result"/> to <paramref name="stream"/>, followed by a line break.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="result">The run's result, or the partial result of a failed run.</param>
    /// <param name="models">The models.</param>
    /// <param name="input">The input.</param>
    /// <param name="error">For a failed run, the one-line error (the report's <c>error</c>); otherwise <see langword="null"/>.</param>
    /// <param name="value">With <c>--output-schema</c>, the answer parsed as JSON when it validated (the report's <c>value</c>).</param>
    public static void Write(Stream stream, RlmResult result, ModelSetup models, CliInput input, string? error = null, JsonElement? value = null)
    {
        var document = RlmJson.CreateResult(
            result,
            new ModelsJson(models.Provider, models.RootModel, models.WorkerModel, models.IsOffline),
            InputJson.From(input.Source, input.Corpus, input.IsDirectory, input.Decodings),
            error) with { Value = value };
        JsonSerializer.Serialize(stream, document, RlmJson.Indented.RunJson);
        stream.WriteByte((byte)'\n');
        stream.Flush();
    }
}
