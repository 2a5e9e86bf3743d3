using Microsoft.Win32.SafeHandles;

namespace Rlm.Tools.Cli;

/// <summary>Standard output as a stream that reports every write failure, a reader that went away included.</summary>
/// <remarks>
/// .NET's console stream on Unix drops EPIPE silently (a pipe whose reader exited, as in <c>rlm chat … | head -1</c>), so
/// a command would go on paying for answers nobody reads. A <see cref="FileStream"/> over file descriptor 1 throws an
/// <see cref="IOException"/> instead (the runtime ignores SIGPIPE). On Windows the console stream is used as before.
/// </remarks>
internal static class StandardOutput
{
    /// <summary>Opens standard output for writing; the caller disposes the stream (the descriptor stays open).</summary>
    /// <exception cref="IOException">Standard output cannot be written (closed, or not writable).</exception>
    /// <exception cref="UnauthorizedAccessException">Standard output is closed (<c>&gt;&amp;-</c>: EBADF).</exception>
    public static Stream Open() => OperatingSystem.IsWindows()
        ? Console.OpenStandardOutput()
        : new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);

    /// <summary>The reason a write to standard output failed, on one line, for "cannot write the answer to standard output: …".</summary>
    public static string Describe(Exception e) => e is UnauthorizedAccessException
        ? "it is closed or not writable" // a closed stdout (>&-) fails with EBADF, which .NET reports as "Access to the path is denied"
        : e.Message.ReplaceLineEndings(" ").Trim();

    /// <summary>Whether <paramref name="e"/> is a failure to write standard output (as opposed to a bug).</summary>
    public static bool IsWriteFailure(Exception e) => e is IOException or UnauthorizedAccessException or NotSupportedException or ObjectDisposedException;
}
