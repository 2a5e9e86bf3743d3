using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Rlm.Tools.Context;
using Rlm.Tools.Json;

namespace Rlm.Tools;

/// <summary>A trajectory read back from JSON Lines (see <see cref="RlmTrajectoryWriter"/>).</summary>
/// <param name="Run">The <c>run</c> line, as a JSON object in the keys of the current version (see <see cref="RlmTrajectoryReader"/>).</param>
/// <param name="Nodes">The nodes, in file order (parents before children).</param>
internal sealed record RlmTrajectory(JsonElement Run, IReadOnlyList<RlmTrajectoryNode> Nodes);

/// <summary>One node line of a trajectory file.</summary>
/// <param name="Id">The node's id (from 1); a line that names its node with a string gets a negative stand-in here, and keeps the string in <paramref name="Json"/>.</param>
/// <param name="ParentId">The parent's id (a stand-in likewise), or <see langword="null"/> for the root.</param>
/// <param name="Kind">The kind: <c>session</c>, <c>model_call</c>, <c>tool_call</c> or <c>leaf</c>.</param>
/// <param name="Label">The label.</param>
/// <param name="Depth">The session depth.</param>
/// <param name="StartedMs">The start, in milliseconds from the start of the run.</param>
/// <param name="DurationMs">The duration in milliseconds.</param>
/// <param name="IsError">Whether the node ended in an error.</param>
/// <param name="Summary">The result excerpt, present only in files written with sensitive data.</param>
/// <param name="Json">The whole line, as a JSON object in the keys of the current version.</param>
internal sealed record RlmTrajectoryNode(
    int Id, int? ParentId, string Kind, string Label, int Depth, double StartedMs, double DurationMs, bool IsError, string? Summary, JsonElement Json);

/// <summary>Reads the JSON Lines trajectory format written by <see cref="RlmTrajectoryWriter"/>, of version 2 and of version 1.</summary>
/// <remarks>
/// <see cref="RlmTrajectory.Run"/> and <see cref="RlmTrajectoryNode.Json"/> are given in the keys of the current version
/// whatever the file's version: a version 1 run line's <c>statistics.wall_ms</c> becomes <c>wall_time_ms</c>, and its
/// <c>version</c> becomes 2. Unknown properties are kept; lines of unknown <c>type</c> are skipped.
/// </remarks>
internal static class RlmTrajectoryReader
{
    /// <summary>Reads a trajectory.</summary>
    /// <param name="reader">The text, one JSON object per line; blank lines are skipped.</param>
    /// <returns>The run line and the nodes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException">The text is not a trajectory: bad JSON, no <c>run</c> line first, a node without id, kind or label, or a parent id not seen before.</exception>
    public static RlmTrajectory Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        JsonElement? run = null;
        var nodes = new List<RlmTrajectoryNode>();
        var ids = new HashSet<int>();
        var stringIds = new Dictionary<string, int>(StringComparer.Ordinal);
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
                if (type.GetString() != "run" || !element.TryGetProperty("format", out var format) || format.GetString() != RlmJson.TrajectoryFormat)
                {
                    throw Bad(lineNumber, $"the first line is not a \"run\" line of format \"{RlmJson.TrajectoryFormat}\"");
                }

                run = JsonSerializer.SerializeToElement(Upgrade(Deserialize(element, RlmJsonContext.Default.RunJson, lineNumber, "a run line")), RlmJson.Compact.RunJson);
                continue;
            }

            if (type.GetString() != "node")
            {
                continue; // unknown line types are ignored
            }

            var named = NamedIds(element, stringIds, lineNumber);
            var node = Deserialize(named?.Numbered ?? element, RlmJsonContext.Default.TraceNodeJson, lineNumber, "a node line needs an id, a kind and a label");
            if (node.ParentId is { } parent && !ids.Contains(parent))
            {
                throw Bad(lineNumber, $"parent {Shown(element, "parent_id")} of node {Shown(element, "id")} is not an earlier node");
            }

            if (!ids.Add(node.Id))
            {
                throw Bad(lineNumber, $"node id {Shown(element, "id")} repeated");
            }

            nodes.Add(new RlmTrajectoryNode(
                node.Id,
                node.ParentId,
                RlmTrajectoryWriter.KindName(node.Kind),
                node.Label,
                node.Depth,
                node.StartedMs,
                node.DurationMs,
                node.IsError,
                node.Summary,
                named?.Restore(JsonSerializer.SerializeToElement(node, RlmJson.Compact.TraceNodeJson)) ?? JsonSerializer.SerializeToElement(node, RlmJson.Compact.TraceNodeJson)));
        }

        return run is { } r ? new RlmTrajectory(r, nodes) : throw new FormatException("not a trajectory: the file is empty");
    }

    /// <summary>
    /// A node line whose <c>id</c> or <c>parent_id</c> is a string (a hand-made or foreign trajectory; ours writes
    /// numbers): the line with each string id replaced by a negative stand-in, so that it reads as any other, and a way to
    /// put the strings back into the line handed on. Any string is an ordinary key here (<c>__proto__</c> included).
    /// Returns <see langword="null"/> when both ids are numbers or absent.
    /// </summary>
    private static NamedNode? NamedIds(JsonElement element, Dictionary<string, int> stringIds, int lineNumber)
    {
        bool namedId = element.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String;
        bool namedParent = element.TryGetProperty("parent_id", out var parent) && parent.ValueKind == JsonValueKind.String;
        if (!namedId && !namedParent)
        {
            return null;
        }

        var line = JsonNode.Parse(element.GetRawText())!.AsObject();
        if (namedId)
        {
            string key = id.GetString()!;
            if (!stringIds.TryGetValue(key, out int standIn))
            {
                standIn = -(stringIds.Count + 1);
                stringIds.Add(key, standIn);
            }

            line["id"] = standIn;
        }

        if (namedParent)
        {
            // A parent never named before gets a stand-in no node has, so the usual "not an earlier node" error follows.
            line["parent_id"] = stringIds.TryGetValue(parent.GetString()!, out int standIn) ? standIn : int.MinValue;
        }

        return new NamedNode(
            JsonSerializer.SerializeToElement(line, RlmJsonContext.Default.JsonObject),
            namedId ? id.GetString() : null,
            namedParent ? parent.GetString() : null);
    }

    /// <summary>An id as the line wrote it, for messages: a number as is, a string quoted (and cut when long).</summary>
    private static string Shown(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? JsonSerializer.Serialize(TextLimits.OneLine(value.GetString()!, 80), RlmJsonContext.Default.String)
            : element.TryGetProperty(name, out value) ? value.GetRawText() : "?";

    /// <summary>A node line with stand-ins for its string ids (see <see cref="NamedIds"/>).</summary>
    private sealed record NamedNode(JsonElement Numbered, string? Id, string? ParentId)
    {
        /// <summary>The line as handed on, with its string ids back in place of the stand-ins.</summary>
        public JsonElement Restore(JsonElement line)
        {
            var node = JsonNode.Parse(line.GetRawText())!.AsObject();
            if (Id is not null)
            {
                node["id"] = Id;
            }

            if (ParentId is not null)
            {
                node["parent_id"] = ParentId;
            }

            return JsonSerializer.SerializeToElement(node, RlmJsonContext.Default.JsonObject);
        }
    }

    private static T Deserialize<T>(JsonElement element, JsonTypeInfo<T> typeInfo, int lineNumber, string what)
    {
        try
        {
            return element.Deserialize(typeInfo) ?? throw Bad(lineNumber, what);
        }
        catch (JsonException e)
        {
            throw Bad(lineNumber, $"{what} ({e.Message.Split(". Path", 2)[0]})");
        }
    }

    // Version 1 named the wall time wall_ms and wrote neither tool_calls_total nor all_sub_calls_failed.
    private static RunJson Upgrade(RunJson run)
    {
        run = Complete(run);
        if (run.Version >= RlmJson.Version)
        {
            return run;
        }

        var s = run.Statistics;
        var unknown = s.Unknown is null ? null : new Dictionary<string, JsonElement>(s.Unknown, StringComparer.Ordinal);
        double wallTimeMs = s.WallTimeMs;
        if (unknown is not null && unknown.Remove("wall_ms", out var wallMs) && wallMs.ValueKind == JsonValueKind.Number)
        {
            wallTimeMs = wallMs.GetDouble();
        }

        return run with
        {
            Version = RlmJson.Version,
            Statistics = s with
            {
                WallTimeMs = wallTimeMs,
                ToolCallsTotal = s.ToolCalls.Values.Sum(),
                AllSubCallsFailed = s.SubCalls > 0 && s.FailedSubCalls >= s.SubCalls,
                Unknown = unknown is { Count: > 0 } ? unknown : null,
            },
        };
    }

    // The source-generated reader sets a missing object to null (init properties), whatever its initializer says.
    private static RunJson Complete(RunJson run)
    {
        var statistics = run.Statistics ?? new StatisticsJson();
        return run with
        {
            Usage = run.Usage ?? new UsageJson(0, 0, 0, 0),
            UsageByModel = run.UsageByModel ?? new(StringComparer.Ordinal),
            Statistics = statistics.ToolCalls is null ? statistics with { ToolCalls = new(StringComparer.Ordinal) } : statistics,
        };
    }

    private static TrajectoryFormatException Bad(int line, string message) =>
        new(string.Create(CultureInfo.InvariantCulture, $"not a trajectory: line {line}: {message}"));

    private sealed class TrajectoryFormatException(string message) : FormatException(message);
}
