using System.CommandLine;
using System.CommandLine.Invocation;
using Rlm.Tools.Context;

namespace Rlm.Tools.Cli;

/// <summary>
/// The entry point of the <c>rlm</c> command.
/// </summary>
/// <remarks>
/// Microsoft.Extensions.Hosting is deliberately not used for the question command (<c>rlm mcp</c>, a long-running server,
/// runs on a generic host in Rlm.Tools.Mcp): a one-shot command gets nothing from a generic host (no services
/// with a lifetime, no hosted services), its configuration is two environment variables read directly
/// (<see cref="ModelSetup"/>), and building a host would add startup time and log noise.
/// </remarks>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        // Before anything is written: nothing on stderr may carry a live escape sequence from a document or a model.
        TerminalText.InstallOnStandardError();
        var options = new CliOptions();
        var command = new RlmCommand(options);
        command.Root.SetAction((parseResult, cancellationToken) => new CliRunner(command, parseResult).RunAsync(cancellationToken));
        var mcp = new McpCommand(options);
        mcp.Command.SetAction((parseResult, cancellationToken) => new McpRunner(mcp, parseResult).RunAsync(cancellationToken));
        command.Root.Subcommands.Add(mcp.Command);
        var view = new ViewCommand();
        view.Command.SetAction(view.RunAsync);
        command.Root.Subcommands.Add(view.Command);
        var chat = new ChatCommand(options);
        chat.Command.SetAction((parseResult, cancellationToken) => new ChatRunner(chat, parseResult).RunAsync(cancellationToken));
        command.Root.Subcommands.Add(chat.Command);
        var serve = new ServeCommand(options);
        serve.Command.SetAction((parseResult, cancellationToken) => new ServeRunner(serve, parseResult).RunAsync(cancellationToken));
        command.Root.Subcommands.Add(serve.Command);

        // Response files (@file) are off: a question may well start with '@'.
        var parseResult = command.Root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Action is ParseErrorAction || (parseResult.Errors.Count > 0 && parseResult.Action is null))
        {
            // System.CommandLine would print every error plus the whole help and exit 1; a usage error is one line and exit 2.
            string message = parseResult.Errors.Count > 0 ? PlainTypeMessage(parseResult.Errors[0].Message) : "invalid arguments";
            // A path among the extra tokens, or taken for the question while the real question is left over ("--file a b 'q?'").
            string? extraPath = parseResult.GetResult(options.Files) is null ? null
                : parseResult.UnmatchedTokens.FirstOrDefault(t => File.Exists(t) || Directory.Exists(t))
                  ?? (parseResult.UnmatchedTokens.Count > 0
                      && (parseResult.CommandResult.Command == command.Root ? parseResult.GetValue(command.Question)
                          : parseResult.CommandResult.Command == chat.Command ? parseResult.GetValue(chat.Question) : null) is { } asked
                      && (File.Exists(asked) || Directory.Exists(asked)) ? asked : null);
            if (extraPath is not null)
            {
                // "--file a b": --file takes one path per occurrence.
                message = $"{extraPath}: --file takes one path; repeat it for several files: --file PATH --file PATH";
            }

            if (parseResult.CommandResult.Command == mcp.Command)
            {
                await Console.Error.WriteLineAsync($"rlm: {TextLimits.OneLine(message, int.MaxValue)} (see rlm mcp --help)").ConfigureAwait(false);
                return ExitCodes.UsageError;
            }

            if (parseResult.CommandResult.Command == serve.Command)
            {
                await Console.Error.WriteLineAsync($"rlm: {TextLimits.OneLine(message, int.MaxValue)} (see rlm serve --help)").ConfigureAwait(false);
                return ExitCodes.UsageError;
            }

            if (parseResult.CommandResult.Command == chat.Command)
            {
                await Console.Error.WriteLineAsync($"rlm: {TextLimits.OneLine(extraPath is null ? ChatCommand.DescribeParseError(parseResult, message) : message, int.MaxValue)} (see rlm chat --help)").ConfigureAwait(false);
                return ExitCodes.UsageError;
            }

            if (parseResult.CommandResult.Command == view.Command)
            {
                await Console.Error.WriteLineAsync($"rlm view: {TextLimits.OneLine(message, int.MaxValue)} (see rlm view --help)").ConfigureAwait(false);
                return ExitCodes.UsageError;
            }

            if (extraPath is null && UnknownOption(parseResult, command) is { } unknown)
            {
                // An unknown option before the question is taken for the question, and the question for an extra argument.
                message = $"unrecognized option {unknown}";
            }
            else if (extraPath is null && parseResult.GetResult(command.Question) is not { Tokens.Count: > 0 } && parseResult.GetResult(command.QuestionFile) is null)
            {
                message = "the question is missing: rlm \"<question>\" (--file PATH | --dir PATH | --stdin)";
            }

            await Console.Error.WriteLineAsync($"rlm: {TextLimits.OneLine(message, int.MaxValue)} (see rlm --help)").ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        if (HelpLayout.IsSubcommandHelp(parseResult))
        {
            return HelpLayout.WriteSubcommandHelp(parseResult, command.Question);
        }

        // Our action reports its own errors; the default handler would print stack traces. rlm chat handles Ctrl+C itself
        // (it cancels one question, not the command), so System.CommandLine's handler is off for it. The question command
        // has its own (TerminationSignals): it tells SIGTERM (143) from SIGINT (130).
        if (parseResult.CommandResult.Command == command.Root)
        {
            using var signals = new TerminationSignals();
            int code = await parseResult.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, signals.Token).ConfigureAwait(false);
            return code == ExitCodes.Canceled && signals.ExitCode is { } signaled ? signaled : code;
        }

        // rlm serve's host handles SIGTERM and SIGINT itself (a graceful stop bounded by --shutdown-timeout).
        var terminationTimeout = parseResult.CommandResult.Command == chat.Command || parseResult.CommandResult.Command == serve.Command ? (TimeSpan?)null : TimeSpan.FromSeconds(2);
        return await parseResult.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = terminationTimeout }).ConfigureAwait(false);
    }

    /// <summary>
    /// System.CommandLine's "Cannot parse argument 'abc' for option '--max-iterations' as expected type 'System.Int32'" in
    /// the words of the help text: <c>--max-iterations: 'abc' is not a whole number</c>. Other messages pass unchanged.
    /// </summary>
    internal static string PlainTypeMessage(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[\w.]+)'\.?$", System.Text.RegularExpressions.RegexOptions.Singleline);
        if (!match.Success)
        {
            return message;
        }

        string expected = match.Groups["type"].Value switch
        {
            "System.Int32" or "System.Int64" => "a whole number",
            "System.Double" or "System.Decimal" or "System.Single" => "a number",
            "System.Boolean" => "true or false",
            _ => "a valid value",
        };
        return $"{match.Groups["option"].Value}: '{match.Groups["value"].Value}' is not {expected}";
    }

    /// <summary>The first token that looks like an option but is none of <c>rlm</c>'s (taken for the question or left over).</summary>
    private static string? UnknownOption(ParseResult parseResult, RlmCommand command)
    {
        var question = parseResult.GetResult(command.Question)?.Tokens.Select(t => t.Value) ?? [];
        return question.Concat(parseResult.UnmatchedTokens).FirstOrDefault(LooksLikeOption);

        static bool LooksLikeOption(string token) =>
            token.Length > 1 && token[0] == '-' && !token.Any(char.IsWhiteSpace) && !double.TryParse(token, System.Globalization.CultureInfo.InvariantCulture, out _);
    }
}
