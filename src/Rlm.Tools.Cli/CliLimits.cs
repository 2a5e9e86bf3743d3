namespace Rlm.Tools.Cli;

/// <summary>The run limits <c>rlm</c> and <c>rlm mcp</c> share, checked the same way for both.</summary>
internal static class CliLimits
{
    /// <summary>
    /// Reads <c>--timeout SECONDS</c> (one model request attempt, <see cref="RlmOptions.ModelRequestTimeout"/>):
    /// <see langword="null"/> when absent; a <see cref="CliUsageException"/> outside 0.01 to 86,400 seconds.
    /// </summary>
    public static TimeSpan? ReadTimeout(System.CommandLine.ParseResult parseResult, System.CommandLine.Option<double> option)
    {
        if (parseResult.GetResult(option) is null)
        {
            return null;
        }

        double seconds = parseResult.GetValue(option);
        if (!double.IsFinite(seconds) || seconds < 0.01 || seconds > TimeSpan.FromDays(1).TotalSeconds)
        {
            throw new CliUsageException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--timeout must be a number of seconds from 0.01 to 86400 (got {seconds})"));
        }

        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Throws a <see cref="CliUsageException"/> naming the option when a limit is out of range.</summary>
    public static void Validate(int maxIterations, int maxDepth, int maxConcurrency)
    {
        if (maxIterations < 1)
        {
            throw new CliUsageException($"--max-iterations must be at least 1 (got {maxIterations})");
        }

        if (maxDepth is < 1 or > 8)
        {
            throw new CliUsageException($"--max-depth must be between 1 and 8 (got {maxDepth})");
        }

        if (maxConcurrency < 1)
        {
            throw new CliUsageException($"--max-concurrency must be at least 1 (got {maxConcurrency})");
        }
    }
}
