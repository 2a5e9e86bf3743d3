using System.Text.RegularExpressions;

namespace Rlm.Tools;

/// <summary>
/// Removes secrets from text that leaves the host: provider error messages before they reach an exception, a span, a log,
/// the trajectory, a progress event or a prompt. Each secret is replaced by <see cref="Mask"/>.
/// </summary>
/// <remarks>
/// <para>Always removed (case-insensitive where names are concerned):</para>
/// <list type="bullet">
/// <item>the value of an <c>Authorization</c>, <c>Proxy-Authorization</c>, <c>api-key</c>, <c>x-api-key</c>,
/// <c>x-goog-api-key</c> or <c>Ocp-Apim-Subscription-Key</c> header or JSON/query field (<c>Name: value</c>,
/// <c>"name":"value"</c>, <c>name=value</c>), which covers Azure OpenAI's 32-hex-digit <c>api-key</c>;</item>
/// <item>a <c>Bearer</c> or <c>Basic</c> credential;</item>
/// <item>keys by shape: OpenAI, Anthropic and OpenRouter (<c>sk-</c>, <c>sk-proj-</c>, <c>sk-ant-</c>, … followed by 16 or
/// more letters, digits, <c>-</c> or <c>_</c>), Groq (<c>gsk_</c>), Google (<c>AIza</c> and 35 more characters), GitHub
/// (<c>ghp_</c>, <c>gho_</c>, <c>ghu_</c>, <c>ghs_</c>, <c>ghr_</c>, <c>github_pat_</c>), Hugging Face (<c>hf_</c>),
/// xAI (<c>xai-</c>) and AWS access key ids (<c>AKIA</c>);</item>
/// <item>the value of the URL query parameters <c>key</c>, <c>api_key</c>, <c>apikey</c>, <c>access_token</c>,
/// <c>refresh_token</c>, <c>id_token</c>, <c>token</c>, <c>sig</c>, <c>signature</c>, <c>x-amz-signature</c>,
/// <c>code</c>, <c>client_secret</c>, <c>secret</c> and <c>password</c> (after <c>?</c> or <c>&amp;</c>), and the
/// password of a URL's user info (<c>https://user:password@host</c>).</item>
/// </list>
/// <para>Also removed: every configured value (<see cref="RlmOptions.RedactedValues"/>, for example the API key itself),
/// when it has at least 4 characters, wherever it appears.</para>
/// <para>The shapes need their prefix and length, so ordinary prose and code (<c>task-list</c>, <c>?page=2</c>,
/// <c>key: value</c>) pass unchanged.</para>
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
            text = QueryPattern().Replace(text, static m => m.Groups["prefix"].Value + Mask);
            text = UserInfoPattern().Replace(text, static m => m.Groups["prefix"].Value + Mask + "@");
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
    [GeneratedRegex("""(?<prefix>\b(?:proxy-)?authorization|\b(?:x-(?:goog-)?)?api[-_]?key|\bocp-apim-subscription-key)(?<sep>"?\s*[:=]\s*"?)(?<value>[^"\r\n&,}]+)""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex HeaderPattern();

    [GeneratedRegex(@"(?<scheme>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{4,}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SchemePattern();

    // A credential in a URL's query: "?key=…", "&sig=…". Only after '?' or '&', so "key=value" in prose or code stays.
    [GeneratedRegex(@"(?<prefix>[?&](?:key|api_key|apikey|access_token|refresh_token|id_token|token|sig|signature|x-amz-signature|code|client_secret|secret|password)=)[^&#\s""'<>]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex QueryPattern();

    // "https://user:password@host": the password goes, the user name stays.
    [GeneratedRegex(@"(?<prefix>\b[a-z][a-z0-9+.-]*://[^/?#@\s:]*:)[^/?#@\s]+@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex UserInfoPattern();

    // Provider key shapes, each with its prefix and a length no word has: OpenAI/Anthropic/OpenRouter sk-…, Groq gsk_…,
    // Google AIza… (39 characters in all), GitHub ghp_…/github_pat_…, Hugging Face hf_…, xAI xai-…, AWS AKIA….
    [GeneratedRegex(@"\b(?:sk-[A-Za-z0-9_-]{16,}|gsk_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|hf_[A-Za-z0-9]{30,}|xai-[A-Za-z0-9]{40,}|AKIA[0-9A-Z]{16}\b)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex KeyPattern();
}
