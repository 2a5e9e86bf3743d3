using System.CommandLine;

namespace Rlm.Tools.Cli;

/// <summary>
/// The <c>rlm chat</c> subcommand: load a corpus once, then answer questions read line by line from standard input as one
/// conversation (<see cref="RlmConversation"/>). Its input, model and limit options are the shared <see cref="CliOptions"/>;
/// only the optional first question and the <c>--stdin</c> rejection are its own.
/// </summary>
internal sealed class ChatCommand
{
    /// <summary>The subcommand's description, shown by <c>rlm chat --help</c> and in the list of commands of <c>rlm --help</c>.</summary>
    internal const string Description = """
        Ask several questions over one corpus as a conversation. The input is loaded once (exactly one of --file or --dir);
        then each line read from standard input is a question, answered on stdout; a question given as an argument
        (rlm chat --file notes.txt "q1") is asked first. The root model sees the earlier questions and answers, and
        variables and JavaScript globals set while answering persist to the next question.
        The prompt "rlm> " is shown (on stderr) only when standard input is a terminal, with line editing (arrows, Home/End,
        Ctrl+Left/Right by word) and the session's history (Up/Down); Ctrl+D on an empty line ends the chat. Questions can
        be piped: printf 'q1\nq2\n' | rlm chat --file notes.txt. Empty lines are ignored. When stdout is not a terminal
        (piped or redirected), answers are separated by one empty line.

        Commands: /help, /usage (turns, tokens and cost so far, on stderr), /reset (a new conversation over the same corpus),
        /exit or /quit. After each answer one line on stderr gives that question's iterations, tokens, cost and time.

        Per question: --max-iterations, --max-depth, --max-concurrency, --timeout (each model request), the budgets
        --max-tokens, --max-cost and --max-time, and -v (progress, trace and statistics) apply to each question separately.
        A question that fails (the model endpoint failed, no final answer, a budget spent) gets a one-line note on stderr
        (e.g. "stopped: token budget of 5,000 tokens spent") and the next question is read; the conversation is kept.

        Model: as for rlm (offline model unless an endpoint is configured; the API key is read only from OPENAI_API_KEY and
        never printed).

        Ctrl+C while a question runs cancels that question only (back to the prompt, the conversation kept); Ctrl+C at the
        prompt, or a second Ctrl+C while a question is being canceled, ends the chat.

        Exit codes: 0 end of input (Ctrl+D) or /exit; 1 an answer could not be written to stdout (the chat ends); 2 usage or
        input error (bad option, --stdin, missing or empty input);
        130 ended with Ctrl+C.
        """;

    public ChatCommand(CliOptions options)
    {
        Options = options;
        // Standard input carries the questions; --stdin is accepted only to say so clearly (hidden from the help).
        Stdin = new Option<bool>("--stdin") { Hidden = true };

        Question = new Argument<string>("question")
        {
            Description = "A first question, in quotes (optional): answered first, then the conversation goes on with the questions read from standard input.",
            Arity = ArgumentArity.ZeroOrOne,
        };

        Command = new Command("chat", Description) { Question, options.Files, options.Dir, options.Globs, options.IGlobs, options.Follow, options.Hidden, options.NoIgnore };
        foreach (var option in options.ModelOptions.Concat(options.LimitOptions))
        {
            Command.Options.Add(option);
        }

        Command.Options.Add(options.Verbose);
        Command.Options.Add(options.Citations);
        Command.Options.Add(Stdin);
    }

    public Command Command { get; }

    /// <summary>Gets the options shared with <c>rlm</c> and <c>rlm mcp</c>.</summary>
    public CliOptions Options { get; }

    /// <summary>Gets the optional first question.</summary>
    public Argument<string> Question { get; }

    /// <summary>A parse error of <c>rlm chat</c>, with a hint when several questions were given as arguments.</summary>
    public static string DescribeParseError(ParseResult parseResult, string message) =>
        parseResult.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-')) is { } question
            ? $"rlm chat takes at most one question argument ('{question}' is one too many): the next questions are read from standard input, one per line"
            : message;

    /// <summary>Gets the hidden <c>--stdin</c> option, rejected with a usage error.</summary>
    public Option<bool> Stdin { get; }
}
