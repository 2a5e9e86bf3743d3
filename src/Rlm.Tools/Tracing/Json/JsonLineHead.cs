namespace Rlm.Tools.Json;

/// <summary>The keys a reader looks at first on a trajectory line, to know how to read the rest.</summary>
internal sealed record JsonLineHead(string? Type, string? Format, int? Version);
