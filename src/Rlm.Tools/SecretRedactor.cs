using System.Text.RegularExpressions;

namespace Rlm.Tools;

/// <summary>
/// Removes secrets from text that leaves the host: provider error messages before they reach an exception, a span, a log,
/// the trajectory, a progress event or a prompt. Each secret is replaced by <see cref="Mask"/>.
/// </summary>
/// <remarks>
/// <para>Always removed (case-insensitive): the value of an <c>Authorization</c>, <c>Proxy-Authorization</c>,
/// <c>api-key</c>, <c>x-api-key</c> or <c>Ocp-Apim-Subscription-Key</c> header or JSON/query field (<c>Name: value</c>,
/// <c>"name":"value"</c>, <c>name=value</c>); a <c>Bearer</c> or <c>Basic</c> credential; and keys shaped like OpenAI,
/// Anthropic and OpenRouter keys (<c>sk-</c> followed by 16 or more letters, digits, <c>-</c> or <c>_</c>).</para>
/// <para>Also removed: every configured value (<see cref="RlmOptions.RedactedValues"/>, for example the API key itself),
/// when it has at least 4 characters, wherever it appears.</para>
/// </remarks>
public sealed partial class SecretRedactor
{
    /// <summary>The text that replaces a secret: <c>[REDACTED]</c>.</summary>
    public const string Mask = "[REDACTED]";

    private readonly string[] _values;

    /// <summary>Creates a redactor that removes the built-in patterns and <paramref name="values"/>.</summary>
    /// <param name="values">Exact secrets to remove (values shorter than 4 characters are ignored: they would mask ordinary text).</param>
    public SecretRedactor(IEnumerable<string>? values = null)
    {
        // Longest first, so a key that contains another configured value is masked whole.
        _values = values?.Where(v => v is { Length: >= 4 }).Distinct(StringComparer.Ordinal).OrderByDescending(v => v.Length).ToArray() ?? [];
    }

    /// <summary>Gets a redactor with the built-in patterns only.</summary>
    public static SecretRedactor Default { get; } = new();

    /// <summary>Returns <paramref name="text"/> with every secret replaced by <see cref="Mask"/>.</summary>
    /// <param name="text">The text; <see langword="null"/> gives an empty string.</param>
    /// <returns>The redacted text (the same instance when nothing was found).</returns>
    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        foreach (string value in _values)
        {
            if (text.Contains(value, StringComparison.Ordinal))
            {
                text = text.Replace(value, Mask, StringComparison.Ordinal);
            }
        }

        try
        {
            text = HeaderPattern().Replace(text, static m => m.Groups["prefix"].Value + m.Groups["sep"].Value + Mask);
            text = SchemePattern().Replace(text, static m => m.Groups["scheme"].Value + Mask);
            return KeyPattern().Replace(text, Mask);
        }
        catch (RegexMatchTimeoutException)
        {
            // Text crafted to make the patterns slow is withheld whole rather than risk letting a secret through.
            return Mask + " (text withheld: it could not be checked for secrets in time)";
        }
    }

    /// <summary>Gets whether <paramref name="text"/> holds anything <see cref="Redact"/> would remove.</summary>
    /// <param name="text">The text.</param>
    public bool ContainsSecret(string? text) => !string.IsNullOrEmpty(text) && !string.Equals(Redact(text), text, StringComparison.Ordinal);

    // "Authorization: Bearer x", "\"api-key\": \"x\"", "api_key=x" ... The value runs to the end of the line, a quote, '&' or ','.
    [GeneratedRegex("""(?<prefix>\b(?:proxy-)?authorization|\b(?:x-)?api[-_]?key|\bocp-apim-subscription-key)(?<sep>"?\s*[:=]\s*"?)(?<value>[^"\r\n&,}]+)""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex HeaderPattern();

    [GeneratedRegex(@"(?<scheme>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{4,}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SchemePattern();

    [GeneratedRegex(@"\bsk-[A-Za-z0-9_-]{16,}", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex KeyPattern();
}
