namespace Rlm.Tools.Benchmarks.Support;

/// <summary>Sanity checks run once in [GlobalSetup], so a benchmark never silently times an error path.</summary>
public static class Check
{
    public static void That(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Benchmark setup check failed: " + message);
        }
    }

    /// <summary>Runs <paramref name="client"/>'s plan once with recording on and returns the run and the tool results it produced.</summary>
    public static (RlmResult Result, List<string> ToolResults) RunOnce(RecursiveLanguageModel rlm, ScriptedRootClient client, string query, string context)
    {
        client.ToolResults.Clear();
        client.Record = true;
        try
        {
            var result = rlm.QueryAsync(query, context).GetAwaiter().GetResult();
            That(result.IsFinal, $"the run stopped with {result.StopReason}, not final.");
            foreach (var text in client.ToolResults)
            {
                That(!text.StartsWith("Error:", StringComparison.Ordinal), $"a tool failed: {Head(text)}");
            }

            return (result, [.. client.ToolResults]);
        }
        finally
        {
            client.Record = false;
        }
    }

    public static string Head(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
