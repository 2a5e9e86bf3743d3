using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace Rlm.Tools;

/// <summary>A model's price in US dollars per million tokens.</summary>
/// <param name="InputPerMillion">USD per 1,000,000 input tokens that were not served from the provider's cache.</param>
/// <param name="CachedInputPerMillion">USD per 1,000,000 cached input tokens (<see cref="UsageDetails.CachedInputTokenCount"/>).</param>
/// <param name="OutputPerMillion">USD per 1,000,000 output tokens (reasoning tokens included, as providers bill them).</param>
public sealed record RlmModelPrice(decimal InputPerMillion, decimal CachedInputPerMillion, decimal OutputPerMillion);

/// <summary>
/// Prices per model id, for <see cref="RlmResult.CostUsd"/> and <see cref="RlmOptions.MaxCostUsd"/>. A model id is found
/// exactly, else by the longest known id it starts with (<c>gpt-4.1-mini-2025-04-14</c> → <c>gpt-4.1-mini</c>), else by the
/// part after its last <c>/</c> (OpenRouter's <c>openai/gpt-4.1</c>). A model without a price makes the cost unknown
/// (<see langword="null"/>), never 0.
/// </summary>
public sealed class RlmPriceTable
{
    /// <summary>The date the shipped <see cref="Default"/> prices were read: 2025-08-07.</summary>
    public const string DefaultPricesDate = "2025-08-07";

    /// <summary>Where the shipped prices come from: OpenAI's API pricing page (standard tier).</summary>
    public const string DefaultPricesSource = "https://platform.openai.com/docs/pricing";

    private readonly ConcurrentDictionary<string, RlmModelPrice> _prices = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates an empty table.</summary>
    public RlmPriceTable()
    {
    }

    /// <summary>Creates a table holding <paramref name="prices"/>.</summary>
    /// <param name="prices">Prices by model id.</param>
    public RlmPriceTable(IEnumerable<KeyValuePair<string, RlmModelPrice>> prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        foreach (var (model, price) in prices)
        {
            Set(model, price);
        }
    }

    /// <summary>
    /// Gets a new table with the shipped prices (USD per 1M tokens, input / cached input / output, read on
    /// <see cref="DefaultPricesDate"/> from <see cref="DefaultPricesSource"/>): gpt-5 1.25/0.125/10, gpt-5-mini
    /// 0.25/0.025/2, gpt-5-nano 0.05/0.005/0.40, gpt-4.1 2/0.50/8, gpt-4.1-mini 0.40/0.10/1.60, gpt-4.1-nano 0.10/0.025/0.40,
    /// gpt-4o 2.50/1.25/10, gpt-4o-mini 0.15/0.075/0.60, o3 2/0.50/8, o4-mini 1.10/0.275/4.40. Prices change: override them
    /// with <see cref="Set"/>.
    /// </summary>
    public static RlmPriceTable Default => new(
    [
        new("gpt-5", new(1.25m, 0.125m, 10m)),
        new("gpt-5-mini", new(0.25m, 0.025m, 2m)),
        new("gpt-5-nano", new(0.05m, 0.005m, 0.40m)),
        new("gpt-4.1", new(2m, 0.50m, 8m)),
        new("gpt-4.1-mini", new(0.40m, 0.10m, 1.60m)),
        new("gpt-4.1-nano", new(0.10m, 0.025m, 0.40m)),
        new("gpt-4o", new(2.50m, 1.25m, 10m)),
        new("gpt-4o-mini", new(0.15m, 0.075m, 0.60m)),
        new("o3", new(2m, 0.50m, 8m)),
        new("o4-mini", new(1.10m, 0.275m, 4.40m)),
    ]);

    /// <summary>Gets the model ids that have a price, sorted ordinally (case-insensitively unique).</summary>
    public IReadOnlyList<string> ModelIds => [.. _prices.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Adds or replaces the price of <paramref name="modelId"/>.</summary>
    /// <param name="modelId">The model id (case-insensitive).</param>
    /// <param name="price">Its price.</param>
    public void Set(string modelId, RlmModelPrice price)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentNullException.ThrowIfNull(price);
        _prices[modelId] = price;
    }

    /// <summary>Finds the price of <paramref name="modelId"/> (see the class remarks), or <see langword="null"/>.</summary>
    /// <param name="modelId">The model id a response reported (or that was requested).</param>
    public RlmModelPrice? Find(string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        if (_prices.TryGetValue(modelId, out var exact))
        {
            return exact;
        }

        RlmModelPrice? best = null;
        int bestLength = 0;
        foreach (var (key, price) in _prices)
        {
            if (key.Length > bestLength && modelId.StartsWith(key, StringComparison.OrdinalIgnoreCase)
                && (modelId.Length == key.Length || !char.IsLetter(modelId[key.Length])))
            {
                best = price;
                bestLength = key.Length;
            }
        }

        if (best is not null)
        {
            return best;
        }

        int slash = modelId.LastIndexOf('/');
        return slash >= 0 && slash < modelId.Length - 1 ? Find(modelId[(slash + 1)..]) : null;
    }

    /// <summary>The cost in USD of <paramref name="usage"/> by <paramref name="modelId"/>, or <see langword="null"/> when its price is unknown.</summary>
    /// <param name="modelId">The model id.</param>
    /// <param name="usage">The tokens used.</param>
    public decimal? Cost(string modelId, UsageDetails usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        if (Find(modelId) is not { } price)
        {
            return null;
        }

        long input = usage.InputTokenCount ?? 0;
        long cached = Math.Min(usage.CachedInputTokenCount ?? 0, input);
        long output = usage.OutputTokenCount ?? 0;
        return ((input - cached) * price.InputPerMillion + cached * price.CachedInputPerMillion + output * price.OutputPerMillion) / 1_000_000m;
    }

    /// <summary>The cost in USD of usage per model id, or <see langword="null"/> when any model's price is unknown.</summary>
    /// <param name="usageByModel">Usage per model id.</param>
    public decimal? Cost(IReadOnlyDictionary<string, UsageDetails> usageByModel)
    {
        ArgumentNullException.ThrowIfNull(usageByModel);
        decimal total = 0;
        foreach (var (model, usage) in usageByModel)
        {
            if (Cost(model, usage) is not { } cost)
            {
                return null;
            }

            total += cost;
        }

        return total;
    }
}
