namespace Rlm.Tools;

/// <summary>
/// A corpus tool refused a query because the host already runs as many as its <see cref="RlmQueryLimiter"/> allows and
/// the query could not wait any longer (<see cref="RlmQueryLimiter.QueueTimeout"/>) or the queue was full. The message is
/// one sentence meant for the caller; the query did not start.
/// </summary>
public sealed class RlmServerBusyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RlmServerBusyException()
        : this("The server is busy. Try again later.")
    {
    }

    /// <summary>Creates the exception with a message for the caller.</summary>
    /// <param name="message">Why the query was refused.</param>
    public RlmServerBusyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">Why the query was refused.</param>
    /// <param name="innerException">The cause.</param>
    public RlmServerBusyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
