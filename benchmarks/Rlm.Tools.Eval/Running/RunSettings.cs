namespace Rlm.Tools.Eval.Running;

/// <summary>Run modes.</summary>
public static class RunModes
{
    /// <summary>Through <see cref="RecursiveLanguageModel"/> with an OpenAI-compatible endpoint.</summary>
    public const string Rlm = "rlm";

    /// <summary>The whole (possibly cut) context in one prompt: the paper's base-model baseline.</summary>
    public const string Direct = "direct";

    /// <summary>Through <see cref="RecursiveLanguageModel"/> with <see cref="OfflineChatClient"/> (no LLM).</summary>
    public const string Offline = "offline";

    public static readonly string[] All = [Rlm, Direct, Offline];
}

/// <summary>Settings of one <c>run</c>.</summary>
public sealed class RunSettings
{
    public required string TasksPath { get; init; }

    public required string OutPath { get; init; }

    public required string Mode { get; init; }

    /// <summary>The OpenAI-compatible base URL; <see langword="null"/> for api.openai.com.</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>The root (rlm) or only (direct) model.</summary>
    public string? Model { get; init; }

    /// <summary>The worker model for sub-calls (rlm); <see langword="null"/> uses <see cref="Model"/>.</summary>
    public string? WorkerModel { get; init; }

    /// <summary>Tasks run at once.</summary>
    public int MaxConcurrency { get; init; } = 4;

    /// <summary>Model requests in flight at once within one RLM run (<see cref="RlmOptions.MaxConcurrency"/>); <see langword="null"/> keeps the engine default.</summary>
    public int? RlmMaxConcurrency { get; init; }

    public int? MaxIterations { get; init; }

    public int? MaxDepth { get; init; }

    public int? MaxSubCalls { get; init; }

    /// <summary>Direct mode: the prompt window in tokens (≈ characters / 4); longer contexts are cut (head and tail kept).</summary>
    public int WindowTokens { get; init; } = 128_000;

    /// <summary>Per-task time limit; <see langword="null"/> for none.</summary>
    public TimeSpan? TaskTimeout { get; init; }

    /// <summary>Per-request network timeout of the OpenAI client; <see langword="null"/> for the default of <c>OpenAIChatClientFactoryOptions</c> (10 minutes).</summary>
    public TimeSpan? NetworkTimeout { get; init; }

    public string PricesPath { get; init; } = PriceTable.DefaultPath;

    /// <summary>Run only the first N pending tasks; <see langword="null"/> for all.</summary>
    public int? Limit { get; init; }

    /// <summary>Discard an existing results file instead of resuming it.</summary>
    public bool Restart { get; init; }

    /// <summary>Write the question, answer, tool arguments and result excerpts into the trajectories (<see cref="RlmTrajectoryOptions.IncludeSensitiveData"/>).</summary>
    public bool TrajectorySensitive { get; init; }

    /// <summary>The folder of the trajectories: the results file's path without its extension, plus <c>.trajectories</c> (<c>eval/rlm.jsonl</c> → <c>eval/rlm.trajectories</c>).</summary>
    public string TrajectoriesPath => TrajectoriesFolder(OutPath);

    /// <summary>The trajectories folder of a results file (see <see cref="TrajectoriesPath"/>).</summary>
    public static string TrajectoriesFolder(string resultsPath) =>
        Path.Combine(Path.GetDirectoryName(resultsPath) ?? "", Path.GetFileNameWithoutExtension(resultsPath) + ".trajectories");

    /// <summary>The API key (from OPENAI_API_KEY); never printed or recorded.</summary>
    public string? ApiKey { get; init; }
}
