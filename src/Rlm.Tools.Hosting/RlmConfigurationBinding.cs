using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Rlm.Tools.Hosting;

/// <summary>
/// Reads <see cref="RlmOptions"/> from a configuration section without the reflection binder, so that a bad value becomes
/// a message naming the setting (<c>Rlm:MaxDepth must be a whole number between 1 and 8 (got '12').</c>) instead of the
/// setter's <see cref="ArgumentOutOfRangeException"/> or the binder's conversion error. The setters of
/// <see cref="RlmOptions"/> stay the one source of truth for the ranges: a value is valid when its setter accepts it; the
/// requirement texts here only describe them.
/// </summary>
internal static class RlmConfigurationBinding
{
    private const string PositiveTimeSpan = "a positive time span such as 00:00:30 (hh:mm:ss)";
    private const string OneDayTimeSpan = "a positive time span of at most one day, such as 00:00:30 (hh:mm:ss)";

    private static readonly Setting[] s_settings =
    [
        Int(nameof(RlmOptions.MaxIterations), "a whole number of at least 1", (o, v) => o.MaxIterations = v),
        Int(nameof(RlmOptions.MaxDepth), "a whole number between 1 and 8", (o, v) => o.MaxDepth = v),
        Int(nameof(RlmOptions.MaxConcurrency), "a whole number of at least 1", (o, v) => o.MaxConcurrency = v),
        Int(nameof(RlmOptions.MaxSubCalls), "a whole number of at least 1", (o, v) => o.MaxSubCalls = v),
        Int(nameof(RlmOptions.MaxToolOutputChars), "a whole number of at least 200", (o, v) => o.MaxToolOutputChars = v),
        Int(nameof(RlmOptions.MaxLeafChars), "a whole number of at least 1", (o, v) => o.MaxLeafChars = v),
        Int(nameof(RlmOptions.MaxConversationChars), "a whole number of at least 1000", (o, v) => o.MaxConversationChars = v),
        Bool(nameof(RlmOptions.CompactConversations), (o, v) => o.CompactConversations = v),
        Int(nameof(RlmOptions.CompactionTargetPercent), "a whole number between 10 and 90", (o, v) => o.CompactionTargetPercent = v),
        Bool(nameof(RlmOptions.MemoizeSubCalls), (o, v) => o.MemoizeSubCalls = v),
        Time(nameof(RlmOptions.RegexTimeout), PositiveTimeSpan, (o, v) => o.RegexTimeout = v),
        Time(nameof(RlmOptions.JavaScriptTimeout), PositiveTimeSpan, (o, v) => o.JavaScriptTimeout = v),
        Int(nameof(RlmOptions.JavaScriptMaxStatements), "a whole number of at least 1", (o, v) => o.JavaScriptMaxStatements = v),
        Int(nameof(RlmOptions.JavaScriptMaxRecursionDepth), "a whole number of at least 1", (o, v) => o.JavaScriptMaxRecursionDepth = v),
        Long(nameof(RlmOptions.JavaScriptMemoryLimitBytes), "a whole number of bytes of at least 1048576 (1 MiB)", (o, v) => o.JavaScriptMemoryLimitBytes = v),
        Time(nameof(RlmOptions.ModelRequestTimeout), "a time span between 00:00:00.010 and 1.00:00:00 (one day)", (o, v) => o.ModelRequestTimeout = v),
        Bool(nameof(RlmOptions.StreamRootResponses), (o, v) => o.StreamRootResponses = v),
        Int(nameof(RlmOptions.MaxModelRetries), "a whole number between 0 and 20", (o, v) => o.MaxModelRetries = v),
        Int(nameof(RlmOptions.MaxConsecutiveErrors), "a whole number of at least 1", (o, v) => o.MaxConsecutiveErrors = v),
        Long(nameof(RlmOptions.MaxTotalTokens), "a whole number of at least 1", (o, v) => o.MaxTotalTokens = v),
        Money(nameof(RlmOptions.MaxCostUsd), "a positive amount of US dollars such as 0.50", (o, v) => o.MaxCostUsd = v),
        Time(nameof(RlmOptions.MaxWallTime), PositiveTimeSpan, (o, v) => o.MaxWallTime = v),
        Time(nameof(RlmOptions.ModelRetryBaseDelay), OneDayTimeSpan, (o, v) => o.ModelRetryBaseDelay = v),
        Time(nameof(RlmOptions.ModelRetryMaxDelay), OneDayTimeSpan, (o, v) => o.ModelRetryMaxDelay = v),
        Text(nameof(RlmOptions.RootModelId), (o, v) => o.RootModelId = v),
        Text(nameof(RlmOptions.WorkerModelId), (o, v) => o.WorkerModelId = v),
        Text(nameof(RlmOptions.RootSystemPrompt), (o, v) => o.RootSystemPrompt = v),
        Text(nameof(RlmOptions.WorkerSystemPrompt), (o, v) => o.WorkerSystemPrompt = v),
        Text(nameof(RlmOptions.LeafSystemPrompt), (o, v) => o.LeafSystemPrompt = v),
        new(nameof(RlmOptions.RedactedValues), "a string or a list of strings", ApplyRedactedValues),
    ];

    private static readonly Dictionary<string, Setting> s_byName = s_settings.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the names of the settings read from configuration.</summary>
    internal static IEnumerable<string> SettingNames => s_settings.Select(s => s.Name);

    /// <summary>
    /// Copies the settings of <paramref name="section"/> into <paramref name="options"/>. Keys that are not settings are
    /// ignored (the section may hold the application's own keys); empty values leave the default. A value that cannot be
    /// parsed, or that its setter refuses, is skipped and, when <paramref name="errors"/> is given, described there.
    /// </summary>
    internal static void Apply(IConfiguration section, RlmOptions options, List<string>? errors)
    {
        foreach (var child in section.GetChildren())
        {
            if (!s_byName.TryGetValue(child.Key, out var setting))
            {
                continue;
            }

            bool accepted;
            try
            {
                accepted = setting.TryApply(options, child);
            }
            catch (ArgumentException)
            {
                accepted = false;
            }

            if (!accepted)
            {
                errors?.Add($"{child.Path} must be {setting.Requirement} (got {Describe(child)}).");
            }
        }
    }

    private static string Describe(IConfigurationSection child) =>
        child.Value is { } value ? $"'{value}'" : "a section instead of a value";

    private static Setting Int(string name, string requirement, Action<RlmOptions, int> set) =>
        new(name, requirement, (o, c) => Scalar(c, text => int.TryParse(text, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : (int?)null, v => set(o, v)));

    private static Setting Long(string name, string requirement, Action<RlmOptions, long> set) =>
        new(name, requirement, (o, c) => Scalar(c, text => long.TryParse(text, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : (long?)null, v => set(o, v)));

    private static Setting Bool(string name, Action<RlmOptions, bool> set) =>
        new(name, "true or false", (o, c) => Scalar(c, text => bool.TryParse(text.Trim(), out var v) ? v : (bool?)null, v => set(o, v)));

    private static Setting Money(string name, string requirement, Action<RlmOptions, decimal> set) =>
        new(name, requirement, (o, c) => Scalar(c, text => decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v : (decimal?)null, v => set(o, v)));

    // A bare number is refused: TimeSpan.Parse("30") is 30 days, never what "30" in a timeout setting means.
    private static Setting Time(string name, string requirement, Action<RlmOptions, TimeSpan> set) =>
        new(name, requirement, (o, c) => Scalar(c, text => text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out var v) ? v : (TimeSpan?)null, v => set(o, v)));

    private static Setting Text(string name, Action<RlmOptions, string> set) =>
        new(name, "a string", (o, c) =>
        {
            if (c.Value is null)
            {
                return !c.GetChildren().Any();
            }

            if (c.Value.Length > 0)
            {
                set(o, c.Value);
            }

            return true;
        });

    private static bool Scalar<T>(IConfigurationSection child, Func<string, T?> parse, Action<T> set)
        where T : struct
    {
        if (child.Value is null)
        {
            // A key with children (an array or object where a number belongs) is an error; an empty section is nothing.
            return !child.GetChildren().Any();
        }

        if (string.IsNullOrWhiteSpace(child.Value))
        {
            return true;
        }

        if (parse(child.Value) is not { } value)
        {
            return false;
        }

        set(value);
        return true;
    }

    private static bool ApplyRedactedValues(RlmOptions options, IConfigurationSection child)
    {
        List<string> values = child.Value is { } single
            ? [single]
            : [.. child.GetChildren().Select(c => c.Value).OfType<string>()];
        values.RemoveAll(string.IsNullOrEmpty);
        if (values.Count > 0)
        {
            options.RedactedValues = [.. options.RedactedValues, .. values];
        }

        return true;
    }

    private sealed record Setting(string Name, string Requirement, Func<RlmOptions, IConfigurationSection, bool> TryApply);
}
