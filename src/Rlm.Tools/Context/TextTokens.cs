using Microsoft.ML.Tokenizers;

namespace Rlm.Tools.Context;

/// <summary>
/// The one tokenizer the engine counts with: OpenAI's <c>o200k_base</c> (GPT-4o, GPT-4.1, GPT-5, o-series), from
/// <c>Microsoft.ML.Tokenizers.Data.O200kBase</c>; the middleware's default, the sub-call fit check and <c>chunk</c>'s <c>max_tokens</c> share it.
/// </summary>
internal static class TextTokens
{
    /// <summary>Tokens a message costs for the chat format, on top of its contents (OpenAI's counting guide uses 3 to 4).</summary>
    public const int PerMessage = 4;

    private static readonly Lazy<Tokenizer> s_tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>Gets the tokenizer; created once, on first use, and safe to share between threads.</summary>
    public static Tokenizer Tokenizer => s_tokenizer.Value;

    /// <summary>Counts the tokens of <paramref name="text"/>.</summary>
    public static int Count(ReadOnlySpan<char> text) => text.IsEmpty ? 0 : Tokenizer.CountTokens(text);
}
