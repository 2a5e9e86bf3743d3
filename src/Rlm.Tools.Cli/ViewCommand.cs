using System.CommandLine;

namespace Rlm.Tools.Cli;

/// <summary>The <c>rlm view</c> subcommand: turn a trajectory file (JSON Lines) into one self-contained HTML page.</summary>
internal sealed class ViewCommand
{
    /// <summary>The subcommand's description.</summary>
    internal const string Description = """
        Write one self-contained HTML page (inline CSS and JavaScript, no network access) from a trajectory written by
        rlm --trajectory PATH: the call tree with parallel groups marked, per-node time and tokens when recorded,
        expandable details (arguments and result excerpts when the file was written with --trajectory-sensitive) and a
        timeline of how many model requests were in flight. Open a node from the address with #open=ID. With
        --trajectory-sensitive the answer's citations are marked in it (verified or not, the reason as a tooltip), each
        linked to its entry in a Citations list that shows the cited line's text (#citation-N).
        Exit codes: 0 written; 2 missing or unreadable file, not a trajectory, or the output cannot be written.
        """;

    public ViewCommand()
    {
        Input = new Argument<string>("trajectory") { Description = "The trajectory file (JSON Lines) to show." };
        Output = new Option<string>("--output", "-o")
        {
            Description = "The HTML file to write. Default: the trajectory's path with the extension .html.",
            HelpName = "PATH",
        };
        Command = new Command("view", Description) { Input, Output };
    }

    public Command Command { get; }

    public Argument<string> Input { get; }

    public Option<string> Output { get; }

    /// <summary>Runs the subcommand: returns 0, or 2 after one line on stderr.</summary>
    public async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        string input = parseResult.GetValue(Input) ?? "";
        string output = parseResult.GetValue(Output) is { Length: > 0 } o ? o : Path.ChangeExtension(input, ".html");
        string text = "";
        try
        {
            text = await File.ReadAllTextAsync(input, cancellationToken).ConfigureAwait(false);
            RlmTrajectory trajectory;
            using (var reader = new StringReader(text))
            {
                trajectory = RlmTrajectoryReader.Read(reader);
            }

            string html = TrajectoryHtml.Render(trajectory, Path.GetFileName(input));
            if (OutputPath.Problem(output) is { } problem)
            {
                return await FailAsync($"cannot write {output}: {problem}").ConfigureAwait(false);
            }

            await File.WriteAllTextAsync(output, html, new System.Text.UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"rlm: wrote {output} ({trajectory.Nodes.Count} nodes)").ConfigureAwait(false);
            return ExitCodes.Answered;
        }
        catch (FormatException e)
        {
            return await FailAsync(IsRlmResult(text)
                ? $"{input}: this is the output of rlm --json (format rlm-result), not a trajectory: run the question with --trajectory PATH and view that file"
                : $"{input}: {e.Message}").ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return await FailAsync(e is FileNotFoundException or DirectoryNotFoundException && !File.Exists(input)
                ? $"{input}: no such file"
                : $"{e.Message.ReplaceLineEndings(" ").Trim()}").ConfigureAwait(false);
        }
    }

    /// <summary>Whether <paramref name="text"/> is one JSON object of format <c>rlm-result</c> (what <c>rlm --json</c> prints), a file people try to view.</summary>
    private static bool IsRlmResult(string text)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && document.RootElement.TryGetProperty("format", out var format)
                && format.ValueKind == System.Text.Json.JsonValueKind.String
                && format.GetString() == "rlm-result";
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static async Task<int> FailAsync(string message)
    {
        await Console.Error.WriteLineAsync($"rlm view: {message}").ConfigureAwait(false);
        return ExitCodes.UsageError;
    }
}
