using System.CommandLine;

namespace Rlm.Tools.Cli;

/// <summary>The <c>rlm</c> command line: the question argument, the options and the help text.</summary>
internal sealed class RlmCommand
{
    /// <summary>The command's description, shown first by <c>--help</c>.</summary>
    internal const string Description = """
        Answer a question over large files with a Recursive Language Model (arXiv 2512.24601): the input is never put in
        a prompt; a root model explores it with tools (grep, peek, chunk, JavaScript) and parallel sub-calls to a worker model.

        Input: exactly one of --file, --dir or --stdin. --file takes one path; repeat it for several files (--file a.txt
        --file b.txt), so the question may come before or after it. --file reads pipes too (--file /dev/stdin,
        --file <(cmd)); a named pipe (FIFO) is waited on until a writer opens it, as cat does (Ctrl+C ends the wait).

        Model: an OpenAI-compatible endpoint is used when one is configured: --base-url, or the OPENAI_BASE_URL environment
        variable, or the OPENAI_API_KEY environment variable alone (then https://api.openai.com/v1). The API key is read only
        from OPENAI_API_KEY and is never printed. With no endpoint configured, or with --offline, the built-in offline model
        answers (deterministic keyword retrieval, not an LLM; a note on stderr says so).

        Output: the answer on stdout (or one JSON object with --json); notes, progress (-v), the trace and statistics on stderr.
        Line numbers in answers are 1-based (as grep -n and editors count); in -v, tool calls and their results are shown as
        the model sent and received them, with the tools' 0-based positions.

        Model requests are retried on transient failures (429, 5xx, resets, timeouts, unreadable responses) with exponential
        back-off and jitter, honouring Retry-After: up to 4 retries, each attempt bounded at 120 s (--timeout). Other errors
        (a refused request, a client bug) are not retried.

        Budgets: --max-tokens, --max-cost and --max-time bound the whole run (sub-calls included); a run stopped by one
        prints the best answer it had (nothing when it had none) and one line on stderr naming the budget (e.g. "stopped:
        token budget of 5,000 tokens spent"); -v and --json show the stop reason (token_budget, cost_budget, time_budget).

        Results are kept: --trajectory PATH is checked before the run (nothing is paid for a path that cannot be written).
        A run that fails or is canceled still prints its JSON with --json (stop_reason, error, usage and statistics so far)
        and writes its partial trajectory.

        Exit codes: 0 answered (the model called final); 1 no final answer (the answer printed is the best the run got;
        also a run stopped by a budget), an answer that never matched --output-schema, every sub-call failed, the model
        endpoint failed, or the answer could not be written to stdout (or the --trajectory file after the run); 2 usage
        or input error (bad option,
        missing/unreadable/binary file or one compressed other than gzip, empty input, too large, a --trajectory path that cannot be written);
        130 canceled (Ctrl+C, SIGINT); 143 terminated (SIGTERM).

        MCP server: rlm mcp (--file PATH [--file PATH]... | --dir PATH [--glob GLOB]...) serves the input to MCP clients over stdio
        (tools query and list_documents); see rlm mcp --help.

        HTTP service: rlm serve [--file PATH | --dir PATH] [--urls URL] serves OpenAI-compatible chat completions, a corpora
        API and MCP over HTTP to many clients; see rlm serve --help.

        Conversation: rlm chat (--file PATH [--file PATH]... | --dir PATH [--glob GLOB]...) loads the input once, then answers the questions
        read line by line from standard input, each seeing the earlier ones; see rlm chat --help.

        Trajectory viewer: rlm view TRAJECTORY.jsonl -o out.html writes one self-contained HTML page (call tree, parallel
        groups, timings, concurrency timeline, the answer's citations with their lines' text) from a file written with
        --trajectory; see rlm view --help.
        """;

    public RlmCommand(CliOptions options)
    {
        Options = options;
        Question = new Argument<string>("question")
        {
            Description = "The question to answer, in quotes (or give --question-file instead).",
            Arity = ArgumentArity.ZeroOrOne,
        };

        QuestionFile = new Option<string>("--question-file")
        {
            Description = "Read the question from this file (UTF-8) instead of the command line, e.g. a question longer than the " +
                          "system's argument limit; - reads it from standard input (then the input must come from --file or --dir). At most " +
                          "1,048,576 characters (1 Mi; a longer question is a usage error: it is sent with every root request).",
            HelpName = "PATH",
        };

        Json = new Option<bool>("--json")
        {
            Description = "Print one JSON object on stdout instead of the answer: answer, stop_reason, is_final, usage, " +
                          "usage_by_model, statistics and the trajectory tree (stop_message when the answer is not final, " +
                          "cost_note when cost_usd is null, error for a failed or canceled run).",
        };

        Trajectory = new Option<string>("--trajectory")
        {
            Description = "Write the run's trajectory to this file as JSON Lines (one event per node: ids, kinds, depth, timings; " +
                          "usage and statistics on the first line); view it with rlm view PATH -o out.html. Without " +
                          "--trajectory-sensitive no question, answer, result excerpt or tool argument value is written. " +
                          "The path is checked before the run; a failed or canceled run writes what it had.",
            HelpName = "PATH",
        };

        TrajectorySensitive = new Option<bool>("--trajectory-sensitive")
        {
            Description = "With --trajectory: also write the question, the answer, result excerpts and tool-call arguments " +
                          "(text that may quote the input).",
        };

        OutputSchema = CliOutputSchema.CreateOption();

        Root = new RootCommand(Description)
        {
            Question, QuestionFile, options.Files, options.Dir, options.Globs, options.IGlobs, options.Follow, options.Hidden, options.NoIgnore, options.Stdin, options.Model, options.WorkerModel, options.Workers, options.BaseUrl, options.AllowInsecureHttp, options.Offline,
            options.MaxIterations, options.MaxDepth, options.MaxConcurrency, options.Timeout, options.MaxTokens, options.MaxCost, options.MaxTime, options.AutoSplit,
            options.Verbose, Json, Trajectory, TrajectorySensitive,
            options.Citations, OutputSchema,
        };

        // A question such as "[draft] summary?" must not be taken for a directive such as [suggest].
        Root.Directives.Clear();
    }

    public RootCommand Root { get; }

    /// <summary>Gets the options shared with <c>rlm chat</c> and <c>rlm mcp</c>.</summary>
    public CliOptions Options { get; }

    public Argument<string> Question { get; }

    public Option<string> QuestionFile { get; }

    public Option<bool> Json { get; }

    public Option<string> Trajectory { get; }

    public Option<bool> TrajectorySensitive { get; }

    /// <summary>Gets <c>--output-schema FILE</c>: the answer must validate against a JSON Schema (see <see cref="CliOutputSchema"/>).</summary>
    public Option<string> OutputSchema { get; }
}
