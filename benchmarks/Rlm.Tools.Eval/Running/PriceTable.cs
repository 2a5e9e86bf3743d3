using System.Text.Json;
using System.Text.Json.Serialization;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Running;

/// <summary>The price of one model in US dollars per million tokens.</summary>
public sealed class ModelPrice
{
    public double InputPerMillion { get; init; }

    public double OutputPerMillion { get; init; }
}

/// <summary>
/// Per-model prices from a JSON file (<c>prices.json</c>): <c>{"models": {"id": {"input_per_million": …, "output_per_million": …}}}</c>.
/// A model without a price makes the cost unknown (<see langword="null"/>), never 0.
/// </summary>
public sealed class PriceTable
{
    private sealed class PriceFile
    {
        [JsonPropertyName("models")]
        public Dictionary<string, ModelPrice> Models { get; init; } = [];
    }

    private readonly Dictionary<string, ModelPrice> _prices;

    public PriceTable(IReadOnlyDictionary<string, ModelPrice> prices)
    {
        _prices = new Dictionary<string, ModelPrice>(prices, StringComparer.OrdinalIgnoreCase);
    }

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "prices.json");

    /// <exception cref="FormatException">The file is not a price table.</exception>
    public static PriceTable Load(string path)
    {
        try
        {
            var file = JsonSerializer.Deserialize<PriceFile>(File.ReadAllText(path), Jsonl.Options) ?? new PriceFile();
            return new PriceTable(file.Models);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}: not a price table ({ex.Message})", ex);
        }
    }

    /// <summary>Finds the price of a model id: exact, else the longest key the id starts with, else the id after its last '/'.</summary>
    public ModelPrice? Find(string modelId)
    {
        if (_prices.TryGetValue(modelId, out var exact))
        {
            return exact;
        }

        var best = _prices.Where(kv => modelId.StartsWith(kv.Key, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(kv => kv.Key.Length).Select(kv => kv.Value).FirstOrDefault();
        if (best is not null)
        {
            return best;
        }

        var slash = modelId.LastIndexOf('/');
        return slash >= 0 && slash < modelId.Length - 1 ? Find(modelId[(slash + 1)..]) : null;
    }

    /// <summary>The cost of the usage, or <see langword="null"/> when any model in it has no price.</summary>
    public double? Cost(IReadOnlyDictionary<string, TokenUsage> usageByModel)
    {
        double total = 0;
        foreach (var (model, usage) in usageByModel)
        {
            var price = Find(model);
            if (price is null)
            {
                return null;
            }

            total += usage.InputTokens * price.InputPerMillion / 1_000_000 + usage.OutputTokens * price.OutputPerMillion / 1_000_000;
        }

        return total;
    }
}
