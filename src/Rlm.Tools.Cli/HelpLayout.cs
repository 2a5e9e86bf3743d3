using System.CommandLine;
using System.CommandLine.Help;

namespace Rlm.Tools.Cli;

/// <summary>
/// Corrects the help of the subcommands (<c>rlm chat</c>, <c>rlm mcp</c>, <c>rlm view</c>): System.CommandLine's default
/// usage line and argument list include the root command's <c>&lt;question&gt;</c> argument, which a subcommand does not
/// take ("rlm &lt;question&gt; chat [options]"). System.CommandLine 2.0 keeps its help layout API internal, so the default
/// text is written to a buffer and that one argument is taken out.
/// </summary>
internal static class HelpLayout
{
    /// <summary>Whether <paramref name="parseResult"/> asks for a subcommand's help.</summary>
    public static bool IsSubcommandHelp(ParseResult parseResult) =>
        parseResult.Action is HelpAction && parseResult.CommandResult.Command is not RootCommand;

    /// <summary>Writes a subcommand's help to stdout without the root command's argument.</summary>
    public static int WriteSubcommandHelp(ParseResult parseResult, Argument rootArgument)
    {
        using var buffer = new StringWriter();
        int exitCode = parseResult.Invoke(new InvocationConfiguration { Output = buffer, EnableDefaultExceptionHandler = false });
        Console.Out.Write(Fix(buffer.ToString(), parseResult.CommandResult.Command.Name, rootArgument));
        Console.Out.Flush();
        return exitCode;
    }

    /// <summary>Removes <paramref name="rootArgument"/> from the usage line and the argument list (and an argument list left empty).</summary>
    internal static string Fix(string help, string subcommand, Argument rootArgument)
    {
        string label = $"<{rootArgument.HelpName ?? rootArgument.Name}>";
        var lines = help.ReplaceLineEndings("\n").Split('\n').ToList();
        for (int i = 0; i < lines.Count; i++)
        {
            // "[<question>]" when the argument is optional.
            lines[i] = lines[i]
                .Replace($"[{label}] {subcommand}", subcommand, StringComparison.Ordinal)
                .Replace($"{label} {subcommand}", subcommand, StringComparison.Ordinal);
        }

        int arguments = lines.IndexOf("Arguments:");
        if (arguments >= 0)
        {
            int end = arguments + 1;
            while (end < lines.Count && lines[end].Length > 0)
            {
                end++;
            }

            for (int i = end - 1; i > arguments; i--)
            {
                if (lines[i].TrimStart().StartsWith(label + " ", StringComparison.Ordinal))
                {
                    lines.RemoveAt(i);
                }
            }

            if (arguments + 1 < lines.Count && lines[arguments + 1].Length == 0)
            {
                lines.RemoveRange(arguments, 2); // the heading and its blank line
            }
        }

        return string.Join(Environment.NewLine, lines);
    }
}
