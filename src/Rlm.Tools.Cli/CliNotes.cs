using Rlm.Tools.Context;

namespace Rlm.Tools.Cli;

/// <summary>The one form of every command's notes on stderr (<c>rlm: …</c>, one line) and how they are kept free of secrets.</summary>
internal static class CliNotes
{
    /// <summary>Writes <paramref name="message"/> as one line <c>rlm: …</c> and flushes, so it is seen before the process goes on or ends.</summary>
    public static void Write(TextWriter stderr, string message)
    {
        stderr.WriteLine($"rlm: {TextLimits.OneLine(message, int.MaxValue)}");
        stderr.Flush();
    }

    /// <summary>
    /// Removes the secrets of <paramref name="models"/> from <paramref name="text"/>; before the models exist (an option
    /// failed first), the API key from the environment.
    /// </summary>
    public static string Redact(ModelSetup? models, string text) =>
        models?.Redact(text) ?? new SecretRedactor(Environment.GetEnvironmentVariable(ModelSetup.ApiKeyVariable) is { } key ? [key] : []).Redact(text);
}
