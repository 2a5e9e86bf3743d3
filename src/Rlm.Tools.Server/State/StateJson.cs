using System.Text.Json;

namespace Rlm.Tools.Server.State;

/// <summary>The one JSON form of what the stores keep in the distributed cache (camelCase, as the web defaults).</summary>
internal static class StateJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>An uploaded corpus as stored: its documents in order.</summary>
    public sealed record StoredCorpus(IReadOnlyList<StoredDocument> Documents);

    /// <summary>One stored document.</summary>
    public sealed record StoredDocument(string Name, string Text);
}
