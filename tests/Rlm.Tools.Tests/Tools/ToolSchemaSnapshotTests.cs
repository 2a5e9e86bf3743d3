using Microsoft.Extensions.AI;
using System.Text.Json.Nodes;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.Tools;

/// <summary>
/// The declarations the model sees (name, description, JSON schema of each tool) against Snapshots/tool-schemas.json,
/// recorded from the hand-written schemas before the tools became typed methods. The comparison is exact JSON equality
/// except for key order inside objects (JSON objects are unordered; the order of "properties" is checked separately,
/// since it is the order of the signature in error messages).
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
            Assert.True(JsonNode.DeepEquals(expected[i]!["schema"], schema), $"{actual[i].Name}:\nexpected {expected[i]!["schema"]!.ToJsonString()}\nactual   {schema.ToJsonString()}");
            Assert.Equal(expected[i]!["schema"]!["properties"]!.AsObject().Select(p => p.Key), schema["properties"]!.AsObject().Select(p => p.Key));
        }
    }

    [Fact]
    public void Declarations_AreDeclarationsOnly()
    {
        Assert.All(RlmToolSet.All, t => Assert.IsNotType<AIFunction>(t.AsDeclarationOnly(), exactMatch: false));
    }
}
