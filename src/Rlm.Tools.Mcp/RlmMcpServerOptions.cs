using Microsoft.Extensions.Logging;

namespace Rlm.Tools.Mcp;

/// <summary>Settings of an MCP server that answers questions over a corpus (see <see cref="RlmMcpServer"/>).</summary>
public sealed class RlmMcpServerOptions
{
    /// <summary>Gets or sets the server name sent to clients in the <c>initialize</c> reply. Default <c>rlm</c>.</summary>
    public string ServerName { get; set; } = "rlm";

    /// <summary>Gets or sets a short description of where the corpus came from (for example <c>12 files under ./docs</c>), used in the tool descriptions and the server instructions.</summary>
    public string? CorpusDescription { get; set; }

    /// <summary>
    /// Gets or sets a function that turns an exception of a query into a one-line message for the client (an error
    /// result with <c>isError</c> set), or returns <see langword="null"/> when it does not recognise the exception (then
    /// the exception type and message are used). The message is redacted with <see cref="RlmOptions.RedactedValues"/>.
    /// </summary>
    public Func<Exception, string?>? DescribeError { get; set; }

    /// <summary>
    /// Gets or sets the lowest level logged on standard error by <see cref="RlmMcpServer.RunStdioAsync"/>. Default
    /// <see cref="LogLevel.Information"/>. Question text is logged only at
    /// <see cref="LogLevel.Trace"/>; standard output carries only the protocol.
    /// </summary>
    public LogLevel MinimumLogLevel { get; set; } = LogLevel.Information;
}
