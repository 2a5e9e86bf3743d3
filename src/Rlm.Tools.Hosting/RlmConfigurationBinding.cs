using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Rlm.Tools.Hosting;

/// <summary>
/// Binds <see cref="RlmOptions"/> from a configuration section with the configuration binder's source generator
/// (<c>EnableConfigurationBindingGenerator</c>), one key at a time, so that a bad value becomes a message naming the
/// setting (<c>Rlm:MaxDepth must be a whole number between 1 and 8 (got '12').</c>) instead of the binder's conversion
/// error or the setter's <see cref="ArgumentOutOfRangeException"/>, and one bad value neither stops nor hides the others.
/// The settings are the options' number, switch, time-span, string and string-list properties; the setters of
/// <see cref="RlmOptions"/> stay the one source of truth for the ranges, which the requirement texts here only describe.
/// Unknown keys are checked here against that one list, not with the binder's <c>ErrorOnUnknownConfiguration</c>: each key
/// is bound alone (so that one bad value hides no other), which leaves the binder no whole section to check, and its
/// message would not name the nearest setting.
/// </summary>
internal static class RlmConfigurationBinding
{
    private const string PositiveTimeSpan = "a positive time span such as 00:00:30 (hh:mm:ss)";
    private const string OneDayTimeSpan = "a positive time span of at most one day, such as 00:00:30 (hh:mm:ss)";

    // Object-valued options (tools, limiter, logger, progress, clock, prices) are set in code, never from configuration.
    private static readonly Dictionary<string, PropertyInfo> s_settings = typeof(RlmOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite && IsSetting(p.PropertyType))
        .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the names of the settings read from configuration.</summary>
    internal static IEnumerable<string> SettingNames => s_settings.Values.Select(p => p.Name);

    /// <summary>
    /// Binds the settings of <paramref name="section"/> into <paramref name="options"/>; empty values leave the default. A
    /// key that is no setting (a typo such as <c>MaxDepht</c>), and a value that cannot be converted or that its setter
    /// refuses, are skipped and, when <paramref name="errors"/> is given, described there (the unknown key with the nearest
    /// setting's name). <paramref name="subsections"/> are keys that hold other models' settings, not errors.
    /// </summary>
    internal static void Apply(IConfiguration section, RlmOptions options, List<string>? errors, IReadOnlyCollection<string>? subsections = null)
    {
        foreach (var child in section.GetChildren())
        {
            if (!s_settings.TryGetValue(child.Key, out var setting))
            {
                if (subsections?.Contains(child.Key, StringComparer.OrdinalIgnoreCase) != true)
                {
                    errors?.Add(Unknown(child));
                }

                continue;
            }

            if (child.Value is { } value && string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            if (!TryBind(child, setting.PropertyType, options))
            {
                errors?.Add($"{child.Path} must be {Requirement(setting)} (got {(child.Value is { } text ? $"'{text}'" : "a section instead of a value")}).");
            }
        }
    }

    private static string Unknown(IConfigurationSection child)
    {
        string parent = child.Path[..^child.Key.Length];
        string? nearest = s_settings.Keys
            .Select(name => (name, distance: Distance(child.Key.ToUpperInvariant(), name.ToUpperInvariant())))
            .Where(c => c.distance <= Math.Max(2, child.Key.Length / 3))
            .OrderBy(c => c.distance)
            .Select(c => s_settings[c.name].Name)
            .FirstOrDefault();
        return nearest is not null
            ? $"{child.Path} is not a setting of the Recursive Language Model; did you mean {parent}{nearest}?"
            : $"{child.Path} is not a setting of the Recursive Language Model. The settings are: {string.Join(", ", SettingNames.Order(StringComparer.Ordinal))}.";
    }

    // Levenshtein distance, for the "did you mean" of a mistyped key: a few lines, not worth a package.
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static bool TryBind(IConfigurationSection child, Type type, RlmOptions options)
    {
        bool isList = type == typeof(IList<string>);
        if (child.Value is null)
        {
            // A key with children (an array or object where a scalar belongs) is an error; an empty section is nothing.
            if (!isList)
            {
                return !child.GetChildren().Any();
            }
        }
        else if (isList)
        {
            options.RedactedValues.Add(child.Value); // one string where a list is expected: a list of one
            return true;
        }
        else if ((Nullable.GetUnderlyingType(type) ?? type) == typeof(TimeSpan) && !child.Value.Contains(':', StringComparison.Ordinal))
        {
            return false; // TimeSpan.Parse("30") is 30 days, never what "30" in a timeout setting means
        }

        try
        {
            new OneSetting(child).Bind(options);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Requirement(PropertyInfo setting) => setting.Name switch
    {
        nameof(RlmOptions.MaxDepth) => "a whole number between 1 and 8",
        nameof(RlmOptions.MaxToolOutputChars) => "a whole number of at least 200",
        nameof(RlmOptions.MaxConversationChars) => "a whole number of at least 1000",
        nameof(RlmOptions.CompactionTargetPercent) => "a whole number between 10 and 90",
        nameof(RlmOptions.MaxModelRetries) => "a whole number between 0 and 20",
        nameof(RlmOptions.MaxFunctionCallsPerReply) => "a whole number between 1 and 10000",
        nameof(RlmOptions.MaxTraceNodes) => "a whole number of at least 100",
        nameof(RlmOptions.JavaScriptMemoryLimitBytes) => "a whole number of bytes of at least 1048576 (1 MiB)",
        nameof(RlmOptions.ModelRequestTimeout) => "a time span between 00:00:00.010 and 1.00:00:00 (one day)",
        nameof(RlmOptions.ModelRetryBaseDelay) or nameof(RlmOptions.ModelRetryMaxDelay) => OneDayTimeSpan,
        _ => (Nullable.GetUnderlyingType(setting.PropertyType) ?? setting.PropertyType) switch
        {
            var t when t == typeof(int) || t == typeof(long) => "a whole number of at least 1",
            var t when t == typeof(TimeSpan) => PositiveTimeSpan,
            var t when t == typeof(bool) => "true or false",
            var t when t == typeof(decimal) => "a positive amount of US dollars such as 0.50",
            var t when t == typeof(string) => "a string",
            _ => "a string or a list of strings",
        },
    };

    private static bool IsSetting(Type type) =>
        (Nullable.GetUnderlyingType(type) ?? type) is var t
        && (t == typeof(int) || t == typeof(long) || t == typeof(bool) || t == typeof(TimeSpan) || t == typeof(decimal) || t == typeof(string) || t == typeof(IList<string>));

    /// <summary>A configuration that holds one setting of the section, so the binder binds that key alone.</summary>
    private sealed class OneSetting(IConfigurationSection setting) : IConfiguration
    {
        public string? this[string key]
        {
            get => Is(key) ? setting.Value : null;
            set => throw new NotSupportedException();
        }

        public IEnumerable<IConfigurationSection> GetChildren() => [setting];

        public IChangeToken GetReloadToken() => setting.GetReloadToken();

        // Any other key: a section under the setting that cannot exist (a NUL in a key), so it is empty.
        public IConfigurationSection GetSection(string key) => Is(key) ? setting : setting.GetSection("\0" + key);

        /// <summary>Binds the setting into <paramref name="options"/> with the source-generated binder.</summary>
        public void Bind(RlmOptions options) => ConfigurationBinder.Bind(this, options);

        private bool Is(string key) => string.Equals(key, setting.Key, StringComparison.OrdinalIgnoreCase);
    }
}
