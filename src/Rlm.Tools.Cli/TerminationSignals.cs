using System.Runtime.InteropServices;

namespace Rlm.Tools.Cli;

/// <summary>
/// SIGINT (Ctrl+C) and SIGTERM for the question command: either cancels the run, which then still reports what it had
/// (the partial <c>--json</c> and trajectory), and the exit code is 128 + the signal's number, as shells report it:
/// 130 for SIGINT, 143 for SIGTERM.
/// </summary>
/// <remarks>
/// System.CommandLine's own handler (<c>InvocationConfiguration.ProcessTerminationTimeout</c>) is turned off for this
/// command: it cancels the action's token without saying which signal came, and an action that stops in time returns its
/// own code, so SIGTERM ended as 130. Like that handler, a run that has not stopped <see cref="Grace"/> after the signal
/// is ended with the signal's exit code.
/// </remarks>
internal sealed class TerminationSignals : IDisposable
{
    /// <summary>How long a canceled run may take to report before the process exits anyway.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    private const int SigIntNumber = 2;
    private const int SigTermNumber = 15;

    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signal;

    public TerminationSignals()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, context => OnSignal(context, SigIntNumber)),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => OnSignal(context, SigTermNumber)),
        ];
    }

    /// <summary>Gets the token a signal cancels.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Gets the exit code of the first signal received (130 or 143), or <see langword="null"/> when none came.</summary>
    public int? ExitCode => Volatile.Read(ref _signal) is > 0 and var number ? 128 + number : null;

    private void OnSignal(PosixSignalContext context, int number)
    {
        context.Cancel = true; // the run stops itself and reports; the runtime does not end the process
        if (Interlocked.CompareExchange(ref _signal, number, 0) != 0)
        {
            return;
        }

        _cancel.Cancel();
        _ = Task.Delay(Grace).ContinueWith(_ => Environment.Exit(128 + number), TaskScheduler.Default);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _cancel.Dispose();
    }
}
