using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rlm.Tools.Eval.Model;

/// <summary>JSON Lines reading and writing for tasks and results (snake_case fields, one object per line).</summary>
public static class Jsonl
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string line) =>
        JsonSerializer.Deserialize<T>(line, Options) ?? throw new JsonException("The line holds JSON null.");

    /// <summary>Reads every non-blank line of a JSONL file.</summary>
    /// <exception cref="FormatException">A line is not valid JSON for <typeparamref name="T"/> (the message names the line).</exception>
    public static List<T> ReadAll<T>(string path)
    {
        var items = new List<T>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                items.Add(Deserialize<T>(line));
            }
            catch (JsonException ex)
            {
                throw new FormatException($"{path}:{lineNumber}: not a valid record ({ex.Message})", ex);
            }
        }

        return items;
    }
}
