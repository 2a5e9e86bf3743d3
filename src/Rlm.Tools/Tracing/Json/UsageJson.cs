using Microsoft.Extensions.AI;

namespace Rlm.Tools.Json;

/// <summary>
/// Token usage: <c>{"input_tokens":…,"cached_input_tokens":…,"output_tokens":…,"total_tokens":…}</c>. Missing counts are 0;
/// <c>cached_input_tokens</c> is the part of <c>input_tokens</c> the provider served from its prompt cache.
/// </summary>
internal sealed record UsageJson(long InputTokens, long CachedInputTokens, long OutputTokens, long TotalTokens)
{
    public static UsageJson From(UsageDetails usage)
    {
        long input = usage.InputTokenCount ?? 0;
        long output = usage.OutputTokenCount ?? 0;
        return new(input, usage.CachedInputTokenCount ?? 0, output, usage.TotalTokenCount ?? input + output);
    }

    /// <summary>Usage per model id, in ordinal order so that files compare line by line.</summary>
    public static SortedDictionary<string, UsageJson> ByModel(IReadOnlyDictionary<string, UsageDetails> usage) =>
        new(usage.ToDictionary(p => p.Key, p => From(p.Value), StringComparer.Ordinal), StringComparer.Ordinal);
}
