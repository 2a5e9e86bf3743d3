using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Rlm.Tools.Context;

namespace Rlm.Tools.Tools;

/// <summary>
/// The ten tools of the RLM contract (names and argument names are the model-facing API):
/// <c>peek</c>, <c>peek_lines</c>, <c>grep</c>, <c>chunk</c>, <c>sub_llm</c>, <c>exec_js</c>, <c>set_variable</c>,
/// <c>get_variable</c>, <c>final</c>, <c>final_var</c>. Positions are 0-based; ranges are half-open <c>[start, end)</c>;
/// out-of-range values are clamped and the result says so.
/// </summary>
internal static class RlmToolSet
{
    public const string Peek = "peek";
    public const string PeekLines = "peek_lines";
    public const string Grep = "grep";
    public const string Chunk = "chunk";
    public const string SubLlm = "sub_llm";
    public const string ExecJs = "exec_js";
    public const string SetVariable = "set_variable";
    public const string GetVariable = "get_variable";
    public const string Final = "final";
    public const string FinalVar = "final_var";

    /// <summary>Most chunks one <c>chunk</c> call may return.</summary>
    public const int MaxChunks = 10_000;

    /// <summary>Most hits one <c>grep</c> call may return.</summary>
    public const int MaxGrepResults = 1_000;

    private static readonly Regex s_variableName = new("^[A-Za-z_][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant);

    /// <summary>The ten tool definitions, built once: name, description, JSON schema and handler.</summary>
    private static readonly ToolDefinition[] s_definitions =
    [
        new(Peek, "Read characters [start, end) of the context (0-based, end exclusive). Out-of-range values are clamped. Long ranges are cut to the output limit (head and tail kept).",
            Schema(("start", "integer", "First character, 0-based."), ("end", "integer", "Character after the last one (exclusive).")), PeekAsync),
        new(PeekLines, "Read lines [start, end) of the context (0-based, end exclusive), each prefixed with its line number. These are the line numbers grep prints.",
            Schema(("start", "integer", "First line, 0-based."), ("end", "integer", "Line after the last one (exclusive).")), PeekLinesAsync),
        new(Grep, "Search the context with a .NET regular expression, line by line. Prints 'line @offset [document:line]: text' per matching line (line is 0-based, as peek_lines takes; offset is the line's first character, as peek and sub_llm take; document:line is 1-based and only for multi-document contexts) and the total count.",
            Schema(["pattern"], ("pattern", "string", ".NET regular expression; ^ and $ match at line breaks."), ("max_results", "integer", "Most matching lines to show (default 50, at most 1000)."),
                   ("ignore_case", "boolean", "Case-insensitive match (default true)."), ("context_lines", "integer", "Lines of context to show before and after each match (default 0, at most 10).")),
            GrepAsync),
        new(Chunk, "Split the context into consecutive character ranges of at most chunk_size characters, each end moved back to a line break when one is in the window. Returns [{index,start,end}] to use with sub_llm or peek.",
            Schema(["chunk_size"], ("chunk_size", "integer", "Most characters per chunk."), ("overlap", "integer", "Characters each chunk shares with the previous one (default 0).")), ChunkAsync),
        new(SubLlm, "Ask a worker model a question about characters [start, end) of the context. The worker sees only that slice and answers in text. Several sub_llm calls in one reply run in parallel. Each call spends one sub-call of the budget.",
            Schema(("query", "string", "A self-contained question or instruction for the worker; it does not see your conversation."), ("start", "integer", "First character of the slice, 0-based."), ("end", "integer", "Character after the slice (exclusive).")),
            SubLlmAsync),
        new(ExecJs, "Run JavaScript (ES2023: let/const, arrow functions, template literals, destructuring, classes, Map/Set) in a persistent sandbox. Globals: context (the text, a string), print/console.log, grep(pattern, max) -> [{line,text,offset,document,document_line}], lines(start, end) -> string, set_variable(name, value), get_variable(name), llm_query(prompt) -> string, llm_query_batched(prompts) -> [string] (parallel). For counting or grouping over the whole context prefer the native helpers (5-20x faster than JS loops; they match line by line): count_lines(text, re?) -> number of lines with a match, count_matches(text, re) -> number of matches, count_by(text, re, {group, lowercase, top}) -> [[key, count], ...] most frequent first (key = capture group, default 1). Returns printed output and the value of the last expression.",
            Schema(("code", "string", "JavaScript source (ES2023).")), ExecJsAsync),
        new(SetVariable, "Store a text value under a name (letters, digits, underscore) to build answers across iterations. Shared with exec_js.",
            Schema(("name", "string", "Variable name, e.g. partial_results."), ("value", "string", "The text to store.")), SetVariableAsync),
        new(GetVariable, "Read a stored variable.",
            Schema(("name", "string", "Variable name.")), GetVariableAsync),
        new(Final, "Finish with this answer. Call it once the answer is verified.",
            Schema(("answer", "string", "The complete final answer.")), FinalAsync),
        new(FinalVar, "Finish with the value of a stored variable as the answer.",
            Schema(("name", "string", "Variable name.")), FinalVarAsync),
    ];

    /// <summary>Checks <see cref="RlmOptions.Tools"/>: unique names, none a built-in tool's.</summary>
    /// <exception cref="ArgumentException">A tool is null, unnamed, named like a built-in tool, or named twice.</exception>
    public static void ValidateCustomTools(IList<Microsoft.Extensions.AI.AITool> tools)
    {
        var seen = new HashSet<string>(s_definitions.Select(d => d.Name), StringComparer.Ordinal);
        foreach (var tool in tools)
        {
            if (tool is null || string.IsNullOrWhiteSpace(tool.Name))
            {
                throw new ArgumentException("RlmOptions.Tools holds a tool without a name.", nameof(tools));
            }

            if (!seen.Add(tool.Name))
            {
                throw new ArgumentException($"RlmOptions.Tools: the tool name '{tool.Name}' is {(s_definitions.Any(d => d.Name == tool.Name) ? "a built-in tool's" : "used twice")}; choose another.", nameof(tools));
            }
        }
    }

    /// <summary>Gets the ten tools, in declaration order.</summary>
    public static IReadOnlyList<RlmTool> All { get; } = [.. s_definitions.Select(d => new RlmTool(d.Name, d.Description, d.Schema, d.Handler))];

    private static Task<ToolResult> PeekAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        var view = c.View;
        var (start, end, note) = Clamp(a.GetInteger("start"), a.GetInteger("end"), view.Length, "character");
        var header = new StringBuilder();
        header.Append(CultureInfo.InvariantCulture, $"[characters {start:N0}–{end:N0} of {view.Length:N0}]");
        AppendNote(header, note);
        header.Append('\n');
        int room = Math.Max(100, c.Options.MaxToolOutputChars - header.Length);
        return Task.FromResult(new ToolResult(header + TextLimits.Cap(view.Span[start..end], room)));
    }

    private static Task<ToolResult> PeekLinesAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        var view = c.View;
        var (start, end, note) = Clamp(a.GetInteger("start"), a.GetInteger("end"), view.LineCount, "line");
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"[lines {start:N0}–{end:N0} of {view.LineCount:N0}");
        if (start < end && view.Locate(view.LineBounds(start).Start) is { } location)
        {
            text.Append(CultureInfo.InvariantCulture, $"; line {start:N0} is {location}");
        }

        text.Append(']');
        AppendNote(text, note);
        text.Append('\n');
        int max = c.Options.MaxToolOutputChars;
        for (int line = start; line < end; line++)
        {
            text.Append(line.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(TextLimits.Line(view.Line(line), 2_000)).Append('\n');
            if (text.Length > max * 2)
            {
                // Stop reading: the result will be capped anyway; say how far we got.
                text.Append(CultureInfo.InvariantCulture, $"[... stopped after line {line:N0}; ask for a smaller range ...]\n");
                break;
            }
        }

        return Task.FromResult(new ToolResult(text.ToString()));
    }

    private static Task<ToolResult> GrepAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        string pattern = a.GetString("pattern");
        long requested = a.GetInteger("max_results", 50);
        bool ignoreCase = a.GetBoolean("ignore_case", true);
        long contextLines = a.GetInteger("context_lines", 0);
        var notes = new List<string>();
        int maxResults = (int)Math.Clamp(requested, 1, MaxGrepResults);
        if (maxResults != requested)
        {
            notes.Add($"max_results {requested} clamped to {maxResults}");
        }

        int around = (int)Math.Clamp(contextLines, 0, 10);
        if (around != contextLines)
        {
            notes.Add($"context_lines {contextLines} clamped to {around}");
        }

        List<GrepHit> hits;
        int total;
        try
        {
            (hits, total) = GrepSearch.Search(c.View, pattern, ignoreCase, c.Options.RegexTimeout, maxResults, ct);
        }
        catch (ArgumentException e)
        {
            return Task.FromResult(ToolResult.Error($"grep: {e.Message} Use .NET regex syntax and escape special characters such as ( ) [ ] . * + ? with a backslash."));
        }
        catch (GrepTimeoutException e)
        {
            return Task.FromResult(ToolResult.Error($"grep: {e.Message}"));
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{total:N0} matching line{(total == 1 ? "" : "s")} for /{pattern}/{(ignoreCase ? "i" : "")}");
        if (total > hits.Count)
        {
            text.Append(CultureInfo.InvariantCulture, $"; showing the first {hits.Count:N0} (raise max_results or narrow the pattern)");
        }

        foreach (var note in notes)
        {
            text.Append("; note: ").Append(note);
        }

        text.Append('\n');
        int printedUpTo = -1;
        foreach (var hit in hits)
        {
            for (int line = Math.Max(hit.Line - around, printedUpTo + 1); line < hit.Line; line++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{line}-  {TextLimits.Line(c.View.Line(line), GrepSearch.MaxLineChars)}\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"{hit.Line} @{hit.Offset}");
            if (hit.Document is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $" [{hit.Document}:{hit.DocumentLine}]");
            }

            text.Append(": ").Append(hit.Text).Append('\n');
            int last = Math.Min(hit.Line + around, c.View.LineCount - 1);
            for (int line = hit.Line + 1; line <= last; line++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{line}-  {TextLimits.Line(c.View.Line(line), GrepSearch.MaxLineChars)}\n");
            }

            printedUpTo = Math.Max(printedUpTo, last);
        }

        return Task.FromResult(new ToolResult(text.ToString()));
    }

    private static Task<ToolResult> ChunkAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        long size = a.GetInteger("chunk_size");
        long overlap = a.GetInteger("overlap", 0);
        if (size < 1)
        {
            return Task.FromResult(ToolResult.Error($"chunk: chunk_size must be at least 1, got {size}."));
        }

        if (overlap < 0 || overlap >= size)
        {
            return Task.FromResult(ToolResult.Error($"chunk: overlap must be at least 0 and less than chunk_size ({size}), got {overlap}."));
        }

        int length = c.View.Length;
        long estimate = length <= overlap ? 1 : (length - overlap + (size - overlap) - 1) / (size - overlap);
        if (estimate > MaxChunks)
        {
            return Task.FromResult(ToolResult.Error($"chunk: chunk_size {size:N0} with overlap {overlap:N0} would make about {estimate:N0} chunks of a {length:N0}-character context; at most {MaxChunks:N0} are allowed. Use a larger chunk_size."));
        }

        var chunks = ComputeChunks(c.View.Span, (int)Math.Min(size, int.MaxValue), (int)overlap);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{chunks.Count:N0} chunk{(chunks.Count == 1 ? "" : "s")} of at most {size:N0} characters (overlap {overlap:N0}) over {length:N0} characters:\n[");
        for (int i = 0; i < chunks.Count; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"{{\"index\":{i},\"start\":{chunks[i].Start},\"end\":{chunks[i].End}}}");
        }

        text.Append(']');
        return Task.FromResult(new ToolResult(text.ToString()));
    }

    /// <summary>Splits into ranges of at most <paramref name="size"/> characters; an end moves back to just after the last line break in its window when that still makes progress.</summary>
    internal static List<(int Start, int End)> ComputeChunks(ReadOnlySpan<char> text, int size, int overlap)
    {
        var chunks = new List<(int, int)>();
        int start = 0;
        while (true)
        {
            int end = (int)Math.Min((long)start + size, text.Length);
            if (end < text.Length)
            {
                int searchFrom = start + overlap + 1;
                if (searchFrom < end)
                {
                    int lastBreak = text[searchFrom..end].LastIndexOf('\n');
                    if (lastBreak >= 0)
                    {
                        end = searchFrom + lastBreak + 1;
                    }
                }
            }

            chunks.Add((start, end));
            if (end >= text.Length)
            {
                return chunks;
            }

            start = end - overlap;
        }
    }

    private static async Task<ToolResult> SubLlmAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        string query = a.GetString("query");
        if (string.IsNullOrWhiteSpace(query))
        {
            return ToolResult.Error("sub_llm: query must not be empty.");
        }

        var (start, end, note) = Clamp(a.GetInteger("start"), a.GetInteger("end"), c.View.Length, "character");
        if (start >= end)
        {
            return ToolResult.Error($"sub_llm: the range [{start:N0}, {end:N0}) is empty{(note is null ? "" : " (" + note + ")")}; the context has {c.View.Length:N0} characters.");
        }

        var sub = await c.SubCalls.RunAsync(new SubCallRequest(query, c.View.Slice(start, end), c.Depth, c.TraceNode), ct).ConfigureAwait(false);
        var result = sub.Failed ? ToolResult.Error(sub.Error!) : new ToolResult(sub.Answer!);
        return note is null ? result : result with { Text = $"[note: {note}]\n{result.Text}" };
    }

    private static async Task<ToolResult> ExecJsAsync(ToolCallContext c, ToolArguments a, CancellationToken ct) =>
        FormatJs(await c.Sandbox.ExecuteAsync(a.GetString("code"), new ToolJsHost(c), ct).ConfigureAwait(false));

    private static ToolResult FormatJs(Sandbox.JsExecutionResult result)
    {
        var text = new StringBuilder();
        if (result.Output.Length > 0)
        {
            text.Append(result.Output);
            if (result.Output[^1] != '\n')
            {
                text.Append('\n');
            }
        }

        if (result.Error is not null)
        {
            text.Append("Error: ").Append(result.Error);
            return new ToolResult(text.ToString(), IsError: true);
        }

        if (result.Value is not null)
        {
            text.Append("=> ").Append(result.Value);
        }

        return new ToolResult(text.Length == 0 ? "(no output; print() to see values)" : text.ToString().TrimEnd('\n'));
    }

    private static Task<ToolResult> SetVariableAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        string name = a.GetString("name");
        if (!s_variableName.IsMatch(name))
        {
            return Task.FromResult(ToolResult.Error($"set_variable: '{TextLimits.Line(name, 80)}' is not a valid name; use letters, digits and underscores, starting with a letter or underscore (at most 64 characters)."));
        }

        string value = a.GetString("value");
        c.Variables.Set(name, value);
        return Task.FromResult(new ToolResult($"Stored '{name}' ({value.Length:N0} characters)."));
    }

    private static Task<ToolResult> GetVariableAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        string name = a.GetString("name");
        return Task.FromResult(c.Variables.TryGet(name, out var value) ? new ToolResult(value) : ToolResult.Error($"get_variable: {NoSuchVariable(c, name)}"));
    }

    private static Task<ToolResult> FinalAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        string answer = a.GetString("answer");
        return Task.FromResult(string.IsNullOrWhiteSpace(answer)
            ? ToolResult.Error("final: answer must not be empty.")
            : new ToolResult("Final answer recorded.", FinalAnswer: answer, StopReason: RlmStopReason.Final));
    }

    private static Task<ToolResult> FinalVarAsync(ToolCallContext c, ToolArguments a, CancellationToken ct)
    {
        string name = a.GetString("name");
        return Task.FromResult(c.Variables.TryGet(name, out var value)
            ? new ToolResult($"Final answer recorded from '{name}' ({value.Length:N0} characters).", FinalAnswer: value, StopReason: RlmStopReason.FinalVariable)
            : ToolResult.Error($"final_var: {NoSuchVariable(c, name)} The run continues; store the answer first or call final(answer)."));
    }

    private static string NoSuchVariable(ToolCallContext c, string name)
    {
        var names = c.Variables.Names;
        return $"no variable named '{TextLimits.Line(name, 80)}'. " + (names.Count == 0 ? "No variables are stored yet." : $"Stored variables: {string.Join(", ", names)}.");
    }

    /// <summary>Clamps a half-open range to <c>[0, length]</c>; the note says what moved, or is <see langword="null"/>.</summary>
    private static (int Start, int End, string? Note) Clamp(long start, long end, int length, string unit)
    {
        var notes = new List<string>(2);
        long s = Math.Clamp(start, 0, length);
        long e = Math.Clamp(end, 0, length);
        if (s != start)
        {
            notes.Add($"start {start:N0} clamped to {s:N0}");
        }

        if (e != end)
        {
            notes.Add($"end {end:N0} clamped to {e:N0}");
        }

        if (e < s)
        {
            notes.Add($"end is before start, so the range is empty");
            e = s;
        }

        string? note = notes.Count == 0 ? null : $"{string.Join("; ", notes)} ({length:N0} {unit}s)";
        return ((int)s, (int)e, note);
    }

    private static void AppendNote(StringBuilder text, string? note)
    {
        if (note is not null)
        {
            text.Append(" [note: ").Append(note).Append(']');
        }
    }

    private static JsonElement Schema(params (string Name, string Type, string Description)[] properties) =>
        Schema(null, properties);

    private static JsonElement Schema(string[]? required, params (string Name, string Type, string Description)[] properties)
    {
        var props = new Dictionary<string, object>();
        foreach (var (name, type, description) in properties)
        {
            props[name] = new Dictionary<string, string> { ["type"] = type, ["description"] = description };
        }

        var schema = new Dictionary<string, object>
        {
            ["type"] = "object",
            ["properties"] = props,
            ["required"] = required ?? properties.Select(p => p.Name).ToArray(),
            ["additionalProperties"] = false,
        };
        return JsonSerializer.SerializeToElement(schema);
    }

    private sealed record ToolDefinition(string Name, string Description, JsonElement Schema, Func<ToolCallContext, ToolArguments, CancellationToken, Task<ToolResult>> Handler);
}
