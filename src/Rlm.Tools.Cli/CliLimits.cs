namespace Rlm.Tools.Cli;

/// <summary>The run limits <c>rlm</c> and <c>rlm mcp</c> share, checked the same way for both.</summary>
internal static class CliLimits
{
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
