namespace Rlm.Tools.Context;

/// <summary>Caps text the model sees: head and tail kept, the omitted middle counted.</summary>
internal static class TextLimits
{
    /// <summary>Returns <paramref name="text"/> unchanged when it fits in <paramref name="maxChars"/>; otherwise its first and last characters with a note of how many were omitted in between, the whole at most <paramref name="maxChars"/> long.</summary>
    public static string Cap(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text;
        }

        return Cap(text.AsSpan(), maxChars);
    }

    public static string Cap(ReadOnlySpan<char> text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text.ToString();
        }

        // The note's length depends on the count; reserve room for the longest count first.
        string Note(int omitted) => $"\n[... {omitted:N0} characters omitted ...]\n";
        int budget = Math.Max(0, maxChars - Note(text.Length).Length);
        int head = (budget * 2 + 2) / 3;
        int tail = budget - head;
        int omitted = text.Length - head - tail;
        return string.Concat(text[..head], Note(omitted), text[^tail..]);
    }

    /// <summary>Shortens one line for display: at most <paramref name="maxChars"/> characters, then the count of the rest.</summary>
    public static string Line(ReadOnlySpan<char> line, int maxChars) =>
        line.Length <= maxChars ? line.ToString() : string.Concat(line[..maxChars], $" …[+{line.Length - maxChars:N0} chars]");

    /// <summary>The text on one line (line breaks as spaces, trimmed), cut to <paramref name="max"/> characters with an ellipsis.</summary>
    public static string OneLine(string text, int max)
    {
        // Only the start can show, and a line break never becomes longer than one space: of a long text (summaries of
        // every step pass through here) read about twice max, not all of it.
        var span = text.AsSpan().TrimStart();
        bool cut = max < int.MaxValue / 2 - 1 && span.Length > max * 2 + 2;
        var line = (cut ? span[..(max * 2 + 2)].ToString() : text).ReplaceLineEndings(" ").Trim();
        return line.Length <= max && !cut ? line : line[..Math.Min(max, line.Length)] + "…";
    }

    /// <summary>Raises <paramref name="target"/> to <paramref name="value"/> atomically when it is larger.</summary>
    public static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
