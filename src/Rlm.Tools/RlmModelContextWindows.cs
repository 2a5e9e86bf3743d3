namespace Rlm.Tools;

/// <summary>
/// Context windows in tokens per model id, for <see cref="RlmOptions.ModelContextWindows"/>: the shipped defaults and the
/// lookup rule. A model id is found exactly, else by the longest known id it starts with followed by a character that is
/// not a letter (<c>gpt-4.1-mini-2025-04-14</c> → <c>gpt-4.1-mini</c>, but <c>gpt-4o</c> is not <c>gpt-4</c>), else by
/// the part after its last <c>/</c> (OpenRouter's <c>openai/gpt-4.1</c>). Case is ignored. A model that is not found has
/// no known window: its sub-calls are not checked.
/// </summary>
public static class RlmModelContextWindows
{
    /// <summary>The date the shipped <see cref="CreateDefaults"/> figures were read: 2025-08-07.</summary>
    public const string DefaultsDate = "2025-08-07";

    /// <summary>Where the shipped figures come from: each provider's model pages (see <see cref="CreateDefaults"/>).</summary>
    public const string DefaultsSource = "https://platform.openai.com/docs/models, https://docs.anthropic.com/en/docs/about-claude/models/overview, https://ai.google.dev/gemini-api/docs/models";

    /// <summary>
    /// Creates a new, case-insensitive dictionary with the shipped context windows in tokens (input and output together,
    /// read on <see cref="DefaultsDate"/>): from platform.openai.com/docs/models gpt-4.1, gpt-4.1-mini, gpt-4.1-nano
    /// 1,047,576; gpt-4o, gpt-4o-mini 128,000; gpt-5, gpt-5-mini, gpt-5-nano 272,000 (the input limit of their 400,000-token
    /// window, which the API enforces); o1, o3, o3-mini, o4-mini 200,000; from Anthropic's models overview claude-3-5-haiku,
    /// claude-3-5-sonnet, claude-3-7-sonnet, claude-sonnet-4, claude-opus-4 200,000; from Google's Gemini models page
    /// gemini-2.0-flash, gemini-2.5-flash, gemini-2.5-pro 1,048,576. Windows change and other providers count differently
    /// (prompts are counted with OpenAI's <c>o200k_base</c> tokenizer): set your models' figures in the dictionary.
    /// </summary>
    /// <returns>A new dictionary the caller owns.</returns>
    public static Dictionary<string, int> CreateDefaults() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-4.1"] = 1_047_576,
        ["gpt-4.1-mini"] = 1_047_576,
        ["gpt-4.1-nano"] = 1_047_576,
        ["gpt-4o"] = 128_000,
        ["gpt-4o-mini"] = 128_000,
        ["gpt-5"] = 272_000,
        ["gpt-5-mini"] = 272_000,
        ["gpt-5-nano"] = 272_000,
        ["o1"] = 200_000,
        ["o3"] = 200_000,
        ["o3-mini"] = 200_000,
        ["o4-mini"] = 200_000,
        ["claude-3-5-haiku"] = 200_000,
        ["claude-3-5-sonnet"] = 200_000,
        ["claude-3-7-sonnet"] = 200_000,
        ["claude-sonnet-4"] = 200_000,
        ["claude-opus-4"] = 200_000,
        ["gemini-2.0-flash"] = 1_048_576,
        ["gemini-2.5-flash"] = 1_048_576,
        ["gemini-2.5-pro"] = 1_048_576,
    };

    /// <summary>Finds the context window of <paramref name="modelId"/> in <paramref name="windows"/> (see the class remarks).</summary>
    /// <param name="windows">Context windows in tokens by model id.</param>
    /// <param name="modelId">The model id.</param>
    /// <returns>The window in tokens, or <see langword="null"/> when the model is not found.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="windows"/> or <paramref name="modelId"/> is <see langword="null"/>.</exception>
    public static int? Find(IEnumerable<KeyValuePair<string, int>> windows, string modelId)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(modelId);
        int? best = null;
        int bestLength = 0;
        foreach (var (key, window) in windows)
        {
            if (string.Equals(key, modelId, StringComparison.OrdinalIgnoreCase))
            {
                return window;
            }

            if (key.Length > bestLength && modelId.StartsWith(key, StringComparison.OrdinalIgnoreCase) && !char.IsLetter(modelId[key.Length]))
            {
                best = window;
                bestLength = key.Length;
            }
        }

        if (best is not null)
        {
            return best;
        }

        int slash = modelId.LastIndexOf('/');
        return slash >= 0 && slash < modelId.Length - 1 ? Find(windows, modelId[(slash + 1)..]) : null;
    }

    /// <summary>Checks that every window is at least 1 token.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A window is less than 1.</exception>
    internal static void Validate(IEnumerable<KeyValuePair<string, int>> windows)
    {
        foreach (var (model, window) in windows)
        {
            if (window < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(RlmOptions.ModelContextWindows), window, $"RlmOptions.ModelContextWindows: the window of '{model}' must be at least 1 token.");
            }
        }
    }
}
