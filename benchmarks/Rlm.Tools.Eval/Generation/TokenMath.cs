namespace Rlm.Tools.Eval.Generation;

/// <summary>
/// The harness's token estimate: tokens ≈ characters / 4 (the usual rule of thumb for English text with
/// OpenAI-style tokenizers). Context lengths are requested in tokens and generated to about 4 × tokens characters.
/// </summary>
public static class TokenMath
{
    public const int CharsPerToken = 4;

    public const int MinTokens = 1024;

    public const int MaxTokens = 1_048_576;

    public static int TargetChars(int tokens) => checked(tokens * CharsPerToken);

    public static int EstimateTokens(int chars) => (chars + CharsPerToken - 1) / CharsPerToken;

    /// <summary>Parses a token count: a plain integer, or with a <c>k</c> (×1024) or <c>m</c> (×1,048,576) suffix.</summary>
    public static bool TryParseTokens(string text, out int tokens)
    {
        tokens = 0;
        var s = text.Trim().ToLowerInvariant();
        long multiplier = 1;
        if (s.EndsWith('k'))
        {
            multiplier = 1024;
            s = s[..^1];
        }
        else if (s.EndsWith('m'))
        {
            multiplier = 1024 * 1024;
            s = s[..^1];
        }

        if (!long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        var total = value * multiplier;
        if (total is < 1 or > int.MaxValue / CharsPerToken)
        {
            return false;
        }

        tokens = (int)total;
        return true;
    }
}
