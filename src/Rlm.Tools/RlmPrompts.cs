using System.Reflection;

namespace Rlm.Tools;

/// <summary>
/// The embedded default system prompts (<c>prompts/root.md</c>, <c>prompts/worker.md</c>, <c>prompts/leaf.md</c>).
/// </summary>
/// <remarks>
/// Prompts may hold these placeholders, replaced before each session starts:
/// <c>{{context_chars}}</c> (characters), <c>{{context_lines}}</c> (lines), <c>{{context_documents}}</c> (document count),
/// <c>{{context_tokens}}</c> (estimated tokens, characters / 4), <c>{{depth}}</c>, <c>{{max_depth}}</c>,
/// <c>{{max_iterations}}</c>, <c>{{max_sub_calls}}</c>, <c>{{max_leaf_chars}}</c> and <c>{{max_output_chars}}</c>.
/// </remarks>
public static class RlmPrompts
{
    private static readonly Lazy<string> s_root = new(() => Load("root.md"));
    private static readonly Lazy<string> s_worker = new(() => Load("worker.md"));
    private static readonly Lazy<string> s_leaf = new(() => Load("leaf.md"));

    /// <summary>Gets the root session's system prompt template.</summary>
    public static string Root => s_root.Value;

    /// <summary>Gets the recursive worker session's system prompt template.</summary>
    public static string Worker => s_worker.Value;

    /// <summary>Gets the leaf completion's system prompt template.</summary>
    public static string Leaf => s_leaf.Value;

    /// <summary>Replaces <c>{{name}}</c> placeholders in <paramref name="template"/>.</summary>
    /// <param name="template">The prompt template.</param>
    /// <param name="values">Placeholder names (without braces) and their values.</param>
    /// <returns>The prompt with every known placeholder replaced; unknown ones are left as they are.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static string Render(string template, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(values);
        var text = template;
        foreach (var (name, value) in values)
        {
            text = text.Replace("{{" + name + "}}", value, StringComparison.Ordinal);
        }

        return text;
    }

    private static string Load(string fileName)
    {
        var name = "Rlm.Tools.Prompts." + fileName;
        using var stream = typeof(RlmPrompts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded prompt '{name}' is missing from {typeof(RlmPrompts).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
