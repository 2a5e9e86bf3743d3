namespace Rlm.Tools.Cli;

/// <summary>The exit codes of the <c>rlm</c> command (also listed in <c>rlm --help</c>).</summary>
internal static class ExitCodes
{
    /// <summary>The model answered with <c>final</c> or <c>final_var</c>.</summary>
    public const int Answered = 0;

    /// <summary>
    /// The run ended without a final answer (iteration limit, plain-text reply, a budget), every sub-call failed, the model
    /// endpoint failed, or the answer or the <c>--trajectory</c> file could not be written.
    /// </summary>
    public const int NoFinalAnswer = 1;

    /// <summary>A usage or input error: bad option, missing or binary file, empty input, an output path that cannot be written.</summary>
    public const int UsageError = 2;

    /// <summary>Canceled with Ctrl+C (128 + SIGINT, the shell convention); a SIGTERM gives 143 (128 + SIGTERM), see <see cref="TerminationSignals"/>.</summary>
    public const int Canceled = 130;
}

/// <summary>A user mistake (usage or input) reported as one line on stderr with exit code 2; never a stack trace.</summary>
internal sealed class CliUsageException(string message) : Exception(message)
{
    /// <summary>
    /// Gets whether the error came from reading a stream (standard input, a pipe, a FIFO) that ended: Ctrl+C ends the
    /// process feeding it at the same moment, so the command first gives a pending cancellation a moment to arrive.
    /// </summary>
    public bool FromStream { get; init; }
}
