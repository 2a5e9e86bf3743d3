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
    /// Gets or sets the limits of the <c>query</c> tool: the longest question, the per-query time and token budgets used
    /// when the model's options set none, and the host-wide limit on queries at once (a query past it waits with progress
    /// notifications, then gets an error result after <see cref="RlmQueryLimiter.QueueTimeout"/>). The tool's name and
    /// description are the server's own; those of this object are not used.
    /// </summary>
    /// <value>The default value is a new <see cref="RlmCorpusToolOptions"/>: 100,000 characters, 10 minutes, 1,000,000 tokens and <see cref="RlmQueryLimiter.Shared"/>.</value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public RlmCorpusToolOptions Query { get; set => field = value ?? throw new ArgumentNullException(nameof(Query)); } = new();

    /// <summary>
    /// Gets or sets the lowest level logged on standard error by <see cref="RlmMcpServer.RunStdioAsync"/>. Default
    /// <see cref="LogLevel.Information"/>. Question text is logged only at
    /// <see cref="LogLevel.Trace"/>; standard output carries only the protocol.
    /// </summary>
    public LogLevel MinimumLogLevel { get; set; } = LogLevel.Information;
}
