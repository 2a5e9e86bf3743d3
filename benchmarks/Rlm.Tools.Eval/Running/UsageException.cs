namespace Rlm.Tools.Eval.Running;

/// <summary>Bad input from the command line (reported as one line on stderr, exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);
