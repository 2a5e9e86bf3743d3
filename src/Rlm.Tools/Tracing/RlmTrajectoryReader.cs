using System.Globalization;
using System.Text.Json;

namespace Rlm.Tools;

/// <summary>A trajectory read back from JSON Lines (see <see cref="RlmTrajectoryWriter"/>).</summary>
/// <param name="Run">The <c>run</c> line, as a JSON object.</param>
/// <param name="Nodes">The nodes, in file order (parents before children).</param>
public sealed record RlmTrajectory(JsonElement Run, IReadOnlyList<RlmTrajectoryNode> Nodes);

/// <summary>One node line of a trajectory file.</summary>
/// <param name="Id">The node's id (from 1).</param>
/// <param name="ParentId">The parent's id, or <see langword="null"/> for the root.</param>
/// <param name="Kind">The kind: <c>session</c>, <c>model_call</c>, <c>tool_call</c> or <c>leaf</c>.</param>
/// <param name="Label">The label.</param>
/// <param name="Depth">The session depth.</param>
/// <param name="StartedMs">The start, in milliseconds from the start of the run.</param>
/// <param name="DurationMs">The duration in milliseconds.</param>
/// <param name="IsError">Whether the node ended in an error.</param>
/// <param name="Summary">The result excerpt, present only in files written with sensitive data.</param>
/// <param name="Json">The whole line, as a JSON object.</param>
public sealed record RlmTrajectoryNode(
    int Id, int? ParentId, string Kind, string Label, int Depth, double StartedMs, double DurationMs, bool IsError, string? Summary, JsonElement Json);

/// <summary>Reads the JSON Lines trajectory format written by <see cref="RlmTrajectoryWriter"/>.</summary>
public static class RlmTrajectoryReader
{
    /// <summary>Reads a trajectory.</summary>
    /// <param name="reader">The text, one JSON object per line; blank lines are skipped.</param>
    /// <returns>The run line and the nodes.</returns>
    /// <exception cref="FormatException">The text is not a trajectory: bad JSON, no <c>run</c> line first, a node without id, kind or label, or a parent id not seen before.</exception>
    public static RlmTrajectory Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        JsonElement? run = null;
        var nodes = new List<RlmTrajectoryNode>();
        var ids = new HashSet<int>();
        int lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonElement element;
            try
            {
                using var document = JsonDocument.Parse(line);
                element = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw Bad(lineNumber, $"not JSON ({e.Message.Split('.')[0]})");
            }

            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                throw Bad(lineNumber, "not an object with a \"type\"");
            }

            if (run is null)
            {
                if (type.GetString() != "run" || !element.TryGetProperty("format", out var format) || format.GetString() != RlmTrajectoryWriter.Format)
                {
                    throw Bad(lineNumber, $"the first line is not a \"run\" line of format \"{RlmTrajectoryWriter.Format}\"");
                }

                run = element;
                continue;
            }

            if (type.GetString() != "node")
            {
                continue; // unknown line types are ignored
            }

            try
            {
                int id = element.GetProperty("id").GetInt32();
                int? parentId = element.TryGetProperty("parent_id", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : null;
                if (parentId is { } parent && !ids.Contains(parent))
                {
                    throw Bad(lineNumber, string.Create(CultureInfo.InvariantCulture, $"parent {parent} of node {id} is not an earlier node"));
                }

                if (!ids.Add(id))
                {
                    throw Bad(lineNumber, string.Create(CultureInfo.InvariantCulture, $"node id {id} repeated"));
                }

                nodes.Add(new RlmTrajectoryNode(
                    id,
                    parentId,
                    element.GetProperty("kind").GetString() ?? "",
                    element.GetProperty("label").GetString() ?? "",
                    element.TryGetProperty("depth", out var d) ? d.GetInt32() : 0,
                    element.TryGetProperty("started_ms", out var s) ? s.GetDouble() : 0,
                    element.TryGetProperty("duration_ms", out var t) ? t.GetDouble() : 0,
                    element.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True,
                    element.TryGetProperty("summary", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null,
                    element));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException && e is not TrajectoryFormatException)
            {
                throw Bad(lineNumber, "a node line needs a numeric id, a kind and a label");
            }
        }

        return run is { } r ? new RlmTrajectory(r, nodes) : throw new FormatException("not a trajectory: the file is empty");
    }

    private static TrajectoryFormatException Bad(int line, string message) =>
        new(string.Create(CultureInfo.InvariantCulture, $"not a trajectory: line {line}: {message}"));

    private sealed class TrajectoryFormatException(string message) : FormatException(message);
}
