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
    /// Binds the settings of <paramref name="section"/> into <paramref name="options"/>. Keys that are not settings are
    /// ignored (the section may hold the application's own keys); empty values leave the default. A value that cannot be
    /// converted, or that its setter refuses, is skipped and, when <paramref name="errors"/> is given, described there.
    /// </summary>
    internal static void Apply(IConfiguration section, RlmOptions options, List<string>? errors)
    {
        foreach (var child in section.GetChildren())
        {
            if (!s_settings.TryGetValue(child.Key, out var setting) || (child.Value is { } value && string.IsNullOrWhiteSpace(value)))
            {
                continue;
            }

            if (!TryBind(child, setting.PropertyType, options))
            {
                errors?.Add($"{child.Path} must be {Requirement(setting)} (got {(child.Value is { } text ? $"'{text}'" : "a section instead of a value")}).");
            }
        }
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
