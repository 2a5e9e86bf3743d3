using System.CommandLine;

namespace Rlm.Tools.Cli;

/// <summary>
/// The options <c>rlm</c>, <c>rlm chat</c>, <c>rlm mcp</c> and <c>rlm serve</c> share, each defined once (name, parser, default, help text)
/// and added to every command that takes it, so the three read them, check them and describe them the same way.
/// </summary>
internal sealed partial class CliOptions
{
    public CliOptions()
    {
        Files = new Option<string[]>("--file", "-f")
        {
            Description = "A text file to read; repeat the option for several (--file a.txt --file b.txt), which become separate " +
                          "documents named by their paths as given. One file is one context (rlm mcp serves it as one document named " +
                          "by its path). Text is UTF-8 unless the bytes say otherwise: a byte order mark, UTF-16 without one, or invalid UTF-8 " +
                          "read with a guessed legacy encoding such as Windows-1252 (-v and --json say which). A .gz file is decompressed; " +
                          "other compressed files (.zst, .bz2, .xz, .zip) and binary files (NUL byte in the first 8 KB) are rejected, and so is an input of more than " +
                          "1,073,741,791 characters (the longest .NET string, document header lines included, decompressed size).",
            HelpName = "PATH",
            Arity = ArgumentArity.OneOrMore,

            // One path per --file: a question after the path ("rlm --file notes.txt 'What is X?'") stays the question.
            AllowMultipleArgumentsPerToken = false,
        };

        Dir = new Option<string>("--dir", "-d")
        {
            Description = "Read the text files under this directory, recursively, as documents named as grep -r names them: the " +
                          "directory as given, joined with the path under it (--dir src: src/app/main.cs; relative to the working directory " +
                          "when the directory is under it, else its absolute path), sorted ordinally; answers cite these names. Walks as ripgrep does: symbolic links are not followed (--follow), hidden files and folders are " +
                          "skipped (--hidden), and so is what .gitignore, .ignore and .git/info/exclude exclude (--no-ignore). .git is never " +
                          "read; FIFOs, sockets and devices are never opened; binary, empty, unreadable and too large files are skipped, " +
                          "never the whole load. -v and --json say what was skipped and why.",
            HelpName = "PATH",
        };

        Globs = new Option<string[]>("--glob", "-g")
        {
            Description = "With --dir: choose files by glob, as ripgrep's --glob (repeatable; quote it so the shell leaves it alone). " +
                          "Gitignore syntax relative to --dir: a pattern without '/' matches a name at any depth (\"*.cs\"), a leading '/' " +
                          "anchors it (\"/README.md\"), ** spans folders (\"src/**/*.cs\"), {a,b} alternates (\"*.{cs,md}\"), [abc] and ? " +
                          "as usual, and a leading '!' excludes (\"!*.md\"; \"!tests\" leaves out folders named tests). The last glob " +
                          "that matches a path decides; with at least one glob that is not an exclusion, a file no glob matches is " +
                          "left out. Case-sensitive. Default: all files. A pattern with a '..' segment is refused.",
            HelpName = "GLOB",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };

        IGlobs = new Option<string[]>("--iglob")
        {
            Description = "With --dir: as --glob, but case-insensitive (\"*.MD\" matches notes.md); repeatable. --iglob " +
                          "patterns count after every --glob, as in ripgrep.",
            HelpName = "GLOB",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };

        // The directory walk (--dir): ripgrep's defaults, each opt-in below.
        Follow = new Option<bool>("--follow", "-L")
        {
            Description = "With --dir: follow symbolic links to files and folders, wherever they point (outside the directory too: " +
                          "use it only on a tree whose links you trust). A link loop is read once; a link to a FIFO or device is " +
                          "never opened.",
        };

        Hidden = new Option<bool>("--hidden")
        {
            Description = "With --dir: also read hidden files and folders (names starting with '.', such as .env); .git never.",
        };

        NoIgnore = new Option<bool>("--no-ignore")
        {
            Description = "With --dir: also read what .gitignore, .ignore and .git/info/exclude exclude.",
        };

        Stdin = new Option<bool>("--stdin")
        {
            Description = "Read the input from standard input until end of file (decoded as --file is). At a terminal, rlm says so: end the input with Ctrl+D.",
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

        AutoSplit = new Option<bool>("--auto-split")
        {
            Description = "A sub_llm whose slice is over the worker's context window is split at line breaks into parts that each " +
                          "fit (a line longer than the window is cut inside the line), answered in parallel, each part one sub-call, " +
                          "and the answers joined in document order under \"[part i/n, lines a-b]\" labels (a failed part says so in " +
                          "its place). Without it such a sub_llm gets an error with the largest slice that fits. A prompt-only " +
                          "llm_query is never split.",
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

        Workers = new Option<string[]>("--worker")
        {
            Description = "A named worker model for sub-calls, NAME=MODEL (repeatable; same endpoint and key as the root). " +
                          "The root may route a sub_llm or llm_query to it by NAME; without a name the --worker-model answers.",
            HelpName = "NAME=MODEL",
            Arity = ArgumentArity.ZeroOrMore,
        };

        BaseUrl = new Option<string>("--base-url")
        {
            Description = "Base URL of an OpenAI-compatible endpoint, e.g. https://openrouter.ai/api/v1 or " +
                          "http://localhost:11434/v1 (Ollama). Default: OPENAI_BASE_URL, else https://api.openai.com/v1 when OPENAI_API_KEY is set, " +
                          "else the offline model.",
            HelpName = "URL",
        };

        // Transport safety: an API key crosses the network only encrypted, unless asked otherwise.
        AllowInsecureHttp = new Option<bool>("--allow-insecure-http")
        {
            Description = "Send the API key (OPENAI_API_KEY) even when --base-url is plain http:// to a host other than this machine, " +
                          "where it crosses the network unencrypted. Without it such an endpoint is a usage error; http:// to " +
                          "localhost, 127.0.0.0/8 or ::1, and any endpoint without a key, need no option.",
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

        // rlm mcp: what one client may ask of the server (RlmCorpusToolOptions).
        MaxConcurrentQueries = new Option<int>("--max-concurrent-queries")
        {
            Description = "rlm mcp: most queries running at once (at least 1); a query past it waits for its turn with progress " +
                          "notifications, then gets an error result after --queue-timeout.",
            HelpName = "N",
            DefaultValueFactory = _ => RlmQueryLimiter.Shared.MaxConcurrentQueries,
        };

        QueueTimeout = new Option<double>("--queue-timeout")
        {
            Description = "rlm mcp: longest wait of a query for its turn, in seconds (fractions allowed), before the client gets " +
                          "a 'server is busy' error result.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => RlmQueryLimiter.Shared.QueueTimeout.TotalSeconds,
        };

        MaxQuestionChars = new Option<int>("--max-question-chars")
        {
            Description = "rlm mcp: longest question in characters (at least 1); a longer one gets an error result and runs nothing.",
            HelpName = "N",
            DefaultValueFactory = _ => new RlmCorpusToolOptions().MaxQuestionChars,
        };

        Verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Live progress on stderr while it runs, then the execution trace tree (per-call time, parallel " +
                          "sub-calls grouped) and the statistics (model calls, iterations, tools, sub-calls, depth, tokens, time).",
        };
    }

    /// <summary>Gets <c>--file PATH</c>, one path per occurrence.</summary>
    public Option<string[]> Files { get; }

    /// <summary>Gets <c>--dir PATH</c>.</summary>
    public Option<string> Dir { get; }

    /// <summary>Gets <c>--glob PATTERN</c> (with <c>--dir</c>; repeatable).</summary>
    public Option<string[]> Globs { get; }

    /// <summary>Gets <c>--follow</c>/<c>-L</c> (with <c>--dir</c>): follow symbolic links.</summary>
    public Option<bool> Follow { get; }

    /// <summary>Gets <c>--hidden</c> (with <c>--dir</c>): read hidden files and folders.</summary>
    public Option<bool> Hidden { get; }

    /// <summary>Gets <c>--no-ignore</c> (with <c>--dir</c>): ignore files leave nothing out.</summary>
    public Option<bool> NoIgnore { get; }

    /// <summary>Gets <c>--iglob PATTERN</c> (with <c>--dir</c>; repeatable; case-insensitive).</summary>
    public Option<string[]> IGlobs { get; }

    /// <summary>Gets the options of the directory walk, for every command with <c>--dir</c>.</summary>
    public IEnumerable<Option> WalkOptions => [Follow, Hidden, NoIgnore];


    /// <summary>Gets <c>--stdin</c> (<c>rlm</c> only; <c>rlm chat</c> refuses it with its own hidden option).</summary>
    public Option<bool> Stdin { get; }

    /// <summary>Gets <c>--model ID</c>.</summary>
    public Option<string> Model { get; }

    /// <summary>Gets <c>--worker-model ID</c>.</summary>
    public Option<string> WorkerModel { get; }

    /// <summary>Gets <c>--worker NAME=MODEL</c> (repeatable): the named workers (<see cref="RlmOptions.Workers"/>).</summary>
    public Option<string[]> Workers { get; }

    /// <summary>Gets <c>--base-url URL</c>.</summary>
    public Option<string> BaseUrl { get; }

    /// <summary>Gets <c>--allow-insecure-http</c>: an API key may go over plain http:// to a host other than loopback.</summary>
    public Option<bool> AllowInsecureHttp { get; }

    /// <summary>Gets <c>--offline</c>.</summary>
    public Option<bool> Offline { get; }

    /// <summary>Gets <c>--max-iterations N</c>.</summary>
    public Option<int> MaxIterations { get; }

    /// <summary>Gets <c>--max-depth N</c>.</summary>
    public Option<int> MaxDepth { get; }

    /// <summary>Gets <c>--max-concurrency N</c>.</summary>
    public Option<int> MaxConcurrency { get; }

    /// <summary>Gets <c>--timeout SECONDS</c>: one model request attempt (<see cref="RlmOptions.ModelRequestTimeout"/>).</summary>
    public Option<double> Timeout { get; }

    /// <summary>Gets <c>--max-tokens N</c>: the run's token budget (<see cref="RlmOptions.MaxTotalTokens"/>).</summary>
    public Option<long> MaxTokens { get; }

    /// <summary>Gets <c>--max-cost USD</c>: the run's cost budget (<see cref="RlmOptions.MaxCostUsd"/>).</summary>
    public Option<decimal> MaxCost { get; }

    /// <summary>Gets <c>--max-time SECONDS</c>: the run's wall-time budget (<see cref="RlmOptions.MaxWallTime"/>).</summary>
    public Option<double> MaxTime { get; }

    /// <summary>Gets <c>--auto-split</c>: split an oversized sub_llm slice (<see cref="RlmOptions.AutoSplitOversizedSubCalls"/>).</summary>
    public Option<bool> AutoSplit { get; }

    /// <summary>Gets <c>-v</c>/<c>--verbose</c> of <c>rlm</c> and <c>rlm chat</c> (progress, trace and statistics; <c>rlm mcp</c>'s own means debug logs).</summary>
    public Option<bool> Verbose { get; }

    // Answers a user can check: the citation policy, parsed and described in CliCitations.

    /// <summary>Gets <c>--citations off|report|repair</c> (<see cref="RlmOptions.CitationPolicy"/>; default report).</summary>
    public Option<RlmCitationPolicy> Citations { get; } = CliCitations.CreateOption();

    /// <summary>Gets <c>--max-concurrent-queries N</c> (<c>rlm mcp</c>).</summary>
    public Option<int> MaxConcurrentQueries { get; }

    /// <summary>Gets <c>--queue-timeout SECONDS</c> (<c>rlm mcp</c>).</summary>
    public Option<double> QueueTimeout { get; }

    /// <summary>Gets <c>--max-question-chars N</c> (<c>rlm mcp</c>).</summary>
    public Option<int> MaxQuestionChars { get; }

    /// <summary>Gets the options that bound what clients of <c>rlm mcp</c> may ask.</summary>
    public IEnumerable<Option> ServerLimitOptions => [MaxConcurrentQueries, QueueTimeout, MaxQuestionChars];

    /// <summary>
    /// Reads the server limits into the query tool's options: this process's own limiter, the question bound, and the
    /// library's default budgets (10 minutes, 1,000,000 tokens) for a query that --max-time / --max-tokens do not bound.
    /// </summary>
    /// <exception cref="CliUsageException">A value is out of range.</exception>
    public RlmCorpusToolOptions ReadServerLimits(ParseResult parseResult)
    {
        int concurrent = parseResult.GetValue(MaxConcurrentQueries);
        double queueSeconds = parseResult.GetValue(QueueTimeout);
        int questionChars = parseResult.GetValue(MaxQuestionChars);
        if (concurrent < 1)
        {
            throw new CliUsageException($"--max-concurrent-queries must be at least 1 (got {concurrent})");
        }

        if (!(queueSeconds >= 0.001 && queueSeconds <= 86_400))
        {
            throw new CliUsageException(System.FormattableString.Invariant($"--queue-timeout must be a number of seconds from 0.001 to 86400 (got {queueSeconds})"));
        }

        if (questionChars < 1)
        {
            throw new CliUsageException($"--max-question-chars must be at least 1 (got {questionChars})");
        }

        return new RlmCorpusToolOptions
        {
            MaxQuestionChars = questionChars,
            QueryLimiter = new RlmQueryLimiter(concurrent, TimeSpan.FromSeconds(queueSeconds)),
        };
    }

    /// <summary>Gets the model options (<c>--model</c>, <c>--worker-model</c>, <c>--worker</c>, <c>--base-url</c>, <c>--allow-insecure-http</c>, <c>--offline</c>).</summary>
    public IEnumerable<Option> ModelOptions => [Model, WorkerModel, Workers, BaseUrl, AllowInsecureHttp, Offline];

    /// <summary>Gets the per-run limits and budgets.</summary>
    public IEnumerable<Option> LimitOptions => [MaxIterations, MaxDepth, MaxConcurrency, Timeout, MaxTokens, MaxCost, MaxTime, AutoSplit];

    /// <summary>Chooses the models from <c>--offline</c>, <c>--base-url</c>, <c>--model</c>, <c>--worker-model</c> and <c>--worker</c> (see <see cref="ModelSetup.Create"/>).</summary>
    public ModelSetup CreateModels(ParseResult parseResult) =>
        ModelSetup.Create(parseResult.GetValue(Offline), parseResult.GetValue(BaseUrl), parseResult.GetValue(Model), parseResult.GetValue(WorkerModel), parseResult.GetValue(AllowInsecureHttp),
            parseResult.GetValue(Workers));

    /// <summary>
    /// The model part of a run that <c>rlm chat</c>, <c>rlm mcp</c> and <c>rlm serve</c> share: creates the models, sets their
    /// ids, the named workers and <c>--citations</c> on <paramref name="options"/>, then applies the budgets (a <c>--max-cost</c>
    /// without prices is a usage error here, before any input is loaded).
    /// </summary>
    /// <returns>The models; the caller disposes them.</returns>
    /// <exception cref="CliUsageException">An option is wrong.</exception>
    public ModelSetup ApplyModels(ParseResult parseResult, RlmOptions options, CliBudgets budgets)
    {
        var models = CreateModels(parseResult);
        try
        {
            options.RootModelId = models.RootModel;
            options.WorkerModelId = models.WorkerModel;
            options.Workers = [.. models.Workers];
            options.CitationPolicy = parseResult.GetValue(Citations);
            budgets.ApplyTo(options);
            return models;
        }
        catch
        {
            models.Dispose();
            throw;
        }
    }

    /// <summary>Reads and checks the limits and budgets into new <see cref="RlmOptions"/> (see <see cref="CliLimits.ReadRunOptions"/>).</summary>
    public (RlmOptions Options, CliBudgets Budgets) ReadRunOptions(ParseResult parseResult)
    {
        var read = CliLimits.ReadRunOptions(parseResult, MaxIterations, MaxDepth, MaxConcurrency, Timeout, MaxTokens, MaxCost, MaxTime);
        read.Options.AutoSplitOversizedSubCalls = parseResult.GetValue(AutoSplit);
        return read;
    }
}
