using System.CommandLine;

namespace Rlm.Tools.Cli;

/// <summary>The <c>rlm</c> command line: the question argument, the options and the help text.</summary>
internal sealed class RlmCommand
{
    /// <summary>The command's description, shown first by <c>--help</c>.</summary>
    internal const string Description = """
        Answer a question over large files with a Recursive Language Model (arXiv 2512.24601): the input is never put in
        a prompt; a root model explores it with tools (grep, peek, chunk, JavaScript) and parallel sub-calls to a worker model.

        Input: exactly one of --file, --dir or --stdin. --file reads pipes too (--file /dev/stdin, --file <(cmd)); a named pipe
        (FIFO) is waited on until a writer opens it, as cat does (Ctrl+C ends the wait).

        Model: an OpenAI-compatible endpoint is used when one is configured: --base-url, or the OPENAI_BASE_URL environment
        variable, or the OPENAI_API_KEY environment variable alone (then https://api.openai.com/v1). The API key is read only
        from OPENAI_API_KEY and is never printed. With no endpoint configured, or with --offline, the built-in offline model
        answers (deterministic keyword retrieval, not an LLM; a note on stderr says so).

        Output: the answer on stdout (or one JSON object with --json); notes, progress (-v), the trace and statistics on stderr.
        Line numbers in answers are 1-based (as grep -n and editors count); in -v, tool calls and their results are shown as
        the model sent and received them, with the tools' 0-based positions.

        Model requests are retried on transient failures (429, 5xx, resets, timeouts, unreadable responses) with exponential
        back-off and jitter, honouring Retry-After: up to 4 retries, each attempt bounded at 120 s (--timeout).

        Budgets: --max-tokens, --max-cost and --max-time bound the whole run (sub-calls included); a run stopped by one
        prints the best answer it had and one line on stderr naming the budget (e.g. "stopped: token budget of 5,000 tokens
        spent"); -v and --json show the stop reason (token_budget, cost_budget, time_budget).

        Exit codes: 0 answered (the model called final); 1 no final answer (the answer printed is the best the run got;
        also a run stopped by a budget), every sub-call failed, the model endpoint failed, or the answer could not be
        written to stdout; 2 usage or input error (bad option, missing/unreadable/binary file, empty input, too large);
        130 canceled (Ctrl+C).

        MCP server: rlm mcp (--file PATH... | --dir PATH [--glob PATTERN]) serves the input to MCP clients over stdio
        (tools query and list_documents); see rlm mcp --help.

        Conversation: rlm chat (--file PATH... | --dir PATH [--glob PATTERN]) loads the input once, then answers the questions
        read line by line from standard input, each seeing the earlier ones; see rlm chat --help.

        Trajectory viewer: rlm view TRAJECTORY.jsonl -o out.html writes one self-contained HTML page (call tree, parallel
        groups, timings, concurrency timeline) from a file written with --trajectory; see rlm view --help.
        """;

    public RlmCommand()
    {
        Question = new Argument<string>("question")
        {
            Description = "The question to answer, in quotes (or give --question-file instead).",
            Arity = ArgumentArity.ZeroOrOne,
        };

        QuestionFile = new Option<string>("--question-file")
        {
            Description = "Read the question from this file (UTF-8) instead of the command line, e.g. a question longer than the " +
                          "system's argument limit; - reads it from standard input (then the input must come from --file or --dir).",
            HelpName = "PATH",
        };

        Files = new Option<string[]>("--file", "-f")
        {
            Description = "Text file(s) to read. One file is one context; several (--file a b, or --file a --file b) are " +
                          "separate documents named by their paths as given. Binary files (NUL byte in the first 8 KB) are rejected, and so is an " +
                          "input of more than 1,073,741,791 characters (the longest .NET string, document header lines included).",
            HelpName = "PATH",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
        };

        Dir = new Option<string>("--dir", "-d")
        {
            Description = "Read every text file under this directory, recursively, as documents named by relative path " +
                          "(sorted ordinally). bin, obj and .git directories, binary and empty files are skipped; unreadable files and folders are " +
                          "skipped and listed by -v.",
            HelpName = "PATH",
        };

        Globs = new Option<string[]>("--glob", "-g")
        {
            Description = $"With --dir: only files matching this glob (repeatable). Default {InputLoader.DefaultGlob} (all files). " +
                          "A pattern without '/' matches at any depth: \"*.cs\" means \"**/*.cs\". A pattern with a '..' segment is refused: only " +
                          "files under --dir are read.",
            HelpName = "PATTERN",
            Arity = ArgumentArity.OneOrMore,
        };

        Stdin = new Option<bool>("--stdin")
        {
            Description = "Read the input from standard input (UTF-8) until end of file.",
        };

        Timeout = new Option<double>("--timeout")
        {
            Description = "Longest wait for one model request attempt, in seconds (default 120; fractions allowed). A request is " +
                          "tried at most 5 times (4 retries, back-off of about 1, 2, 4, 8 s, each at most 30 s), so an endpoint that " +
                          "never answers ends the run after about 5 x SECONDS plus the back-off (at most 5 x SECONDS + 120 s).",
            HelpName = "SECONDS",
        };

        MaxTokens = new Option<long>("--max-tokens")
        {
            Description = "Token budget of the run: input plus output tokens of every model call (root and sub-calls at all depths), " +
                          "as the endpoint reports them; a positive whole number. At 90% the root stops exploring and makes one last " +
                          "call for an answer when it fits; once spent no request is sent, the best answer so far is printed with a " +
                          "note on stderr (stop reason token_budget, exit code 1). Requests in flight when it is reached may overshoot it.",
            HelpName = "N",
            CustomParser = CliLimits.ParseTokens,
        };

        MaxCost = new Option<decimal>("--max-cost")
        {
            Description = "Cost budget of the run in US dollars (e.g. 0.50), priced per model id by rlm's price table (OpenAI " +
                          $"prices of {RlmPriceTable.DefaultPricesDate} for {string.Join(", ", RlmPriceTable.Default.ModelIds)}, and ids " +
                          "starting with them). A root or worker model without a price is a usage error (the budget could never bind). " +
                          "Usage is priced by the model id each response reports. Stops as --max-tokens does (stop reason cost_budget).",
            HelpName = "USD",
            CustomParser = CliLimits.ParseUsd,
        };

        MaxTime = new Option<double>("--max-time")
        {
            Description = "Wall-time budget of the run in seconds (fractions allowed). Once reached no new model request is sent " +
                          "(requests in flight finish, each bounded by --timeout) and the best answer so far is printed with a note " +
                          "on stderr (stop reason time_budget, exit code 1).",
            HelpName = "SECONDS",
            CustomParser = CliLimits.ParseSeconds,
        };

        Model = new Option<string>("--model", "-m")
        {
            Description = $"Root model id on the endpoint. Default {ModelSetup.DefaultModel}. Ignored by the offline model.",
            HelpName = "ID",
        };

        WorkerModel = new Option<string>("--worker-model")
        {
            Description = "Model id for sub-calls (depth 1 and below). Default: the root model.",
            HelpName = "ID",
        };

        BaseUrl = new Option<string>("--base-url")
        {
            Description = "Base URL of an OpenAI-compatible endpoint, e.g. https://openrouter.ai/api/v1 or " +
                          "http://localhost:11434/v1 (Ollama). Default: OPENAI_BASE_URL, else https://api.openai.com/v1 when OPENAI_API_KEY is set, " +
                          "else the offline model.",
            HelpName = "URL",
        };

        Offline = new Option<bool>("--offline")
        {
            Description = "Use the built-in offline model (keyword retrieval, not an LLM) even if an endpoint is configured.",
        };

        MaxIterations = new Option<int>("--max-iterations")
        {
            Description = "Most model turns per session (root or recursive worker) before it must answer (at least 1).",
            HelpName = "N",
            DefaultValueFactory = _ => 30,
        };

        MaxDepth = new Option<int>("--max-depth")
        {
            Description = "Deepest sub-call level, 1 to 8 (the root is depth 0). Sub-calls at depth N are plain completions over " +
                          "a slice; with N > 1, sub-calls above depth N are recursive sessions with the tools. 1 is the paper's setting.",
            HelpName = "N",
            DefaultValueFactory = _ => 1,
        };

        MaxConcurrency = new Option<int>("--max-concurrency")
        {
            Description = "Most model requests in flight at once, at all depths (at least 1).",
            HelpName = "N",
            DefaultValueFactory = _ => 8,
        };

        Verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Live progress on stderr while it runs, then the execution trace tree (per-call time, parallel " +
                          "sub-calls grouped) and the statistics (model calls, iterations, tools, sub-calls, depth, tokens, time).",
        };

        Json = new Option<bool>("--json")
        {
            Description = "Print one JSON object on stdout instead of the answer: answer, stop_reason, is_final, usage, " +
                          "usage_by_model, statistics and the trajectory tree.",
        };

        Trajectory = new Option<string>("--trajectory")
        {
            Description = "Write the run's trajectory to this file as JSON Lines (one event per node: ids, kinds, depth, timings; " +
                          "usage and statistics on the first line); view it with rlm view PATH -o out.html. Without " +
                          "--trajectory-sensitive no question, answer, result excerpt or tool argument value is written.",
            HelpName = "PATH",
        };

        TrajectorySensitive = new Option<bool>("--trajectory-sensitive")
        {
            Description = "With --trajectory: also write the question, the answer, result excerpts and tool-call arguments " +
                          "(text that may quote the input).",
        };

        Root = new RootCommand(Description)
        {
            Question, QuestionFile, Files, Dir, Globs, Stdin, Model, WorkerModel, BaseUrl, Offline, MaxIterations, MaxDepth, MaxConcurrency, Timeout, MaxTokens, MaxCost, MaxTime,
            Verbose, Json, Trajectory, TrajectorySensitive,
        };

        // A question such as "[draft] summary?" must not be taken for a directive such as [suggest].
        Root.Directives.Clear();
    }

    public RootCommand Root { get; }

    public Argument<string> Question { get; }

    public Option<string> QuestionFile { get; }

    public Option<string[]> Files { get; }

    public Option<string> Dir { get; }

    public Option<string[]> Globs { get; }

    public Option<bool> Stdin { get; }

    public Option<string> Model { get; }

    public Option<string> WorkerModel { get; }

    public Option<string> BaseUrl { get; }

    public Option<bool> Offline { get; }

    public Option<int> MaxIterations { get; }

    public Option<int> MaxDepth { get; }

    public Option<int> MaxConcurrency { get; }

    public Option<double> Timeout { get; }

    /// <summary>Gets <c>--max-tokens N</c>: the run's token budget (<see cref="RlmOptions.MaxTotalTokens"/>).</summary>
    public Option<long> MaxTokens { get; }

    /// <summary>Gets <c>--max-cost USD</c>: the run's cost budget (<see cref="RlmOptions.MaxCostUsd"/>).</summary>
    public Option<decimal> MaxCost { get; }

    /// <summary>Gets <c>--max-time SECONDS</c>: the run's wall-time budget (<see cref="RlmOptions.MaxWallTime"/>).</summary>
    public Option<double> MaxTime { get; }

    public Option<bool> Verbose { get; }

    public Option<bool> Json { get; }

    public Option<string> Trajectory { get; }

    public Option<bool> TrajectorySensitive { get; }
}
