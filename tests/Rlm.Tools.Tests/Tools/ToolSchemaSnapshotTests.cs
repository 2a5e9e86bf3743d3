using Microsoft.Extensions.AI;
using System.Text.Json.Nodes;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.Tools;

/// <summary>
/// The declarations the model sees (name, description, JSON schema of each tool) against Snapshots/tool-schemas.json,
/// recorded from the hand-written schemas before the tools became typed methods. The schemas must be the same JSON,
/// key order included (both sides are re-serialized compactly, so only whitespace and escaping are normalized).
/// </summary>
public class ToolSchemaSnapshotTests
{
    private static readonly string s_path = Path.Combine(Path.GetDirectoryName(ToolTextSnapshotTests.SourceFile())!, "Snapshots", "tool-schemas.json");

    [Fact]
    public void Declarations_AreEquivalentToTheSnapshot()
    {
        var expected = JsonNode.Parse(File.ReadAllText(s_path))!.AsArray();
        var actual = RlmToolSet.All.Select(t => t.AsDeclarationOnly()).ToList();

        Assert.Equal(expected.Select(e => (string?)e!["name"]), actual.Select(t => t.Name));
        for (int i = 0; i < actual.Count; i++)
        {
            var schema = JsonNode.Parse(actual[i].JsonSchema.GetRawText())!;
            Assert.Equal((string?)expected[i]!["description"], actual[i].Description);
            Assert.Equal(expected[i]!["schema"]!.ToJsonString(), schema.ToJsonString());
        }
    }

    [Fact]
    public void Declarations_AreDeclarationsOnly()
    {
        Assert.All(RlmToolSet.All, t => Assert.IsNotType<AIFunction>(t.AsDeclarationOnly(), exactMatch: false));
    }
}
