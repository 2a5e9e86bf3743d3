using System.CommandLine;

namespace Rlm.Tools.Cli;

/// <summary>The <c>rlm mcp</c> subcommand: serve a corpus as a Model Context Protocol server over stdio.</summary>
internal sealed class McpCommand
{
    /// <summary>The subcommand's description, shown by <c>rlm mcp --help</c> and in the list of commands of <c>rlm --help</c>.</summary>
    internal const string Description = """
        Serve the input as a Model Context Protocol (MCP) server over stdio, for agents and editors (Claude Desktop, VS Code,
        Cursor, any MCP client). Tools: query (argument question, and optionally documents: only documents whose names contain
        it; the answer cites document:line; progress notifications per iteration and sub-call when the client sends a
        progress token; notifications/cancelled ends the run) and list_documents. The input is loaded once at start-up:
        exactly one of --file or --dir. Model options as for rlm (offline by default). The limits, --timeout and the budgets
        --max-tokens, --max-cost and --max-time apply to each query; without --max-time and --max-tokens each query is
        bounded by 600 s and 1,000,000 tokens. A query stopped by a budget returns the best answer it had with a note naming
        the budget. Clients are not trusted: at most --max-concurrent-queries queries run at once (default 4; the others
        wait with progress notifications, up to --queue-timeout, default 120 s, then get a 'server is busy' error), and a
        question longer than --max-question-chars (default 100,000) is refused. The query tool's description states these
        limits. Standard output carries only the protocol; logs go to stderr. Stops when the client closes stdin.
        """;

    public McpCommand(CliOptions options)
    {
        Options = options;

        // Its own -v: a server has no trace or statistics to print, so -v means debug logs here.
        Verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Debug logs on stderr (the question text at trace level is never logged). Default: one line per query.",
        };

        Command = new Command("mcp", Description) { options.Files, options.Dir, options.Globs, options.IGlobs, options.Follow, options.Hidden, options.NoIgnore };
        foreach (var option in options.ModelOptions.Concat(options.LimitOptions).Concat(options.ServerLimitOptions))
        {
            Command.Options.Add(option);
        }

        Command.Options.Add(options.Citations);
        Command.Options.Add(Verbose);
    }

    public Command Command { get; }

    /// <summary>Gets the options shared with <c>rlm</c> and <c>rlm chat</c>.</summary>
    public CliOptions Options { get; }

    /// <summary>Gets <c>-v</c>: debug logs on stderr.</summary>
    public Option<bool> Verbose { get; }
}
