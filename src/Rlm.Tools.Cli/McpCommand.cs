using System.CommandLine;

namespace Rlm.Tools.Cli;

/// <summary>The <c>rlm mcp</c> subcommand: serve a corpus as a Model Context Protocol server over stdio.</summary>
internal sealed class McpCommand
{
    /// <summary>The subcommand's description, shown by <c>rlm mcp --help</c> and in the list of commands of <c>rlm --help</c>.</summary>
    internal const string Description = """
        Serve the input as a Model Context Protocol (MCP) server over stdio, for agents and editors (Claude Desktop, VS Code,
        Cursor, any MCP client). Tools: query (argument question; the answer cites document:line; progress notifications
        per iteration and sub-call when the client sends a progress token; notifications/cancelled ends the run) and
        list_documents. The input is loaded once at start-up: exactly one of --file or --dir. Model options as for rlm
        (offline by default). The limits, --timeout and the budgets --max-tokens, --max-cost and --max-time apply to each
        query; a query stopped by a budget returns the best answer it had with a note naming the budget. Standard output carries only the protocol; logs go to stderr. Stops when the client closes stdin.
        """;

    public McpCommand(RlmCommand rlm)
    {
        Files = new Option<string[]>("--file", "-f")
        {
            Description = "Text file(s) to serve, as documents named by their paths as given. Binary files are rejected.",
            HelpName = "PATH",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        Dir = new Option<string>("--dir", "-d") { Description = rlm.Dir.Description, HelpName = "PATH" };
        Globs = new Option<string[]>("--glob", "-g") { Description = rlm.Globs.Description, HelpName = "PATTERN", Arity = ArgumentArity.OneOrMore };
        Model = new Option<string>("--model", "-m") { Description = rlm.Model.Description, HelpName = "ID" };
        WorkerModel = new Option<string>("--worker-model") { Description = rlm.WorkerModel.Description, HelpName = "ID" };
        BaseUrl = new Option<string>("--base-url") { Description = rlm.BaseUrl.Description, HelpName = "URL" };
        Offline = new Option<bool>("--offline") { Description = rlm.Offline.Description };
        MaxIterations = new Option<int>("--max-iterations") { Description = rlm.MaxIterations.Description, HelpName = "N", DefaultValueFactory = _ => 30 };
        MaxDepth = new Option<int>("--max-depth") { Description = rlm.MaxDepth.Description, HelpName = "N", DefaultValueFactory = _ => 1 };
        MaxConcurrency = new Option<int>("--max-concurrency") { Description = rlm.MaxConcurrency.Description, HelpName = "N", DefaultValueFactory = _ => 8 };
        Timeout = new Option<double>("--timeout") { Description = rlm.Timeout.Description, HelpName = "SECONDS" };
        // The budgets are rlm's own instances (one definition: names, parsers, help text).
        MaxTokens = rlm.MaxTokens;
        MaxCost = rlm.MaxCost;
        MaxTime = rlm.MaxTime;
        Verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Debug logs on stderr (the question text at trace level is never logged). Default: one line per query.",
        };

        Command = new Command("mcp", Description)
        {
            Files, Dir, Globs, Model, WorkerModel, BaseUrl, Offline, MaxIterations, MaxDepth, MaxConcurrency, Timeout, MaxTokens, MaxCost, MaxTime, Verbose,
        };
    }

    public Command Command { get; }

    public Option<string[]> Files { get; }

    public Option<string> Dir { get; }

    public Option<string[]> Globs { get; }

    public Option<string> Model { get; }

    public Option<string> WorkerModel { get; }

    public Option<string> BaseUrl { get; }

    public Option<bool> Offline { get; }

    public Option<int> MaxIterations { get; }

    public Option<int> MaxDepth { get; }

    public Option<int> MaxConcurrency { get; }

    /// <summary>Gets <c>--timeout</c>: seconds per model request attempt (as for <c>rlm</c>).</summary>
    public Option<double> Timeout { get; }

    /// <summary>Gets <c>--max-tokens</c>: each query's token budget (as for <c>rlm</c>).</summary>
    public Option<long> MaxTokens { get; }

    /// <summary>Gets <c>--max-cost</c>: each query's cost budget in US dollars (as for <c>rlm</c>).</summary>
    public Option<decimal> MaxCost { get; }

    /// <summary>Gets <c>--max-time</c>: each query's wall-time budget in seconds (as for <c>rlm</c>).</summary>
    public Option<double> MaxTime { get; }

    public Option<bool> Verbose { get; }
}
