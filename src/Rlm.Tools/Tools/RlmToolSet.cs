using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
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

    /// <summary>The ten tools, in declaration order.</summary>
    private static readonly RlmTool[] s_tools =
    [
        ToolDeclarations.Create(Peek, (Func<ToolCallContext, long, long, ToolOutput>)ReadCharacters),
        ToolDeclarations.Create(PeekLines, (Func<ToolCallContext, long, long, ToolOutput>)ReadLines),
        ToolDeclarations.Create(Grep, (Func<ToolCallContext, string, long, bool, long, CancellationToken, ToolOutput>)Search),
        ToolDeclarations.Create(Chunk, (Func<ToolCallContext, long, long, long, ToolOutput>)Split),
        ToolDeclarations.Create(SubLlm, (Func<ToolCallContext, string, long, long, WorkerChoice, CancellationToken, Task<ToolOutput>>)AskWorkerAsync),
        ToolDeclarations.Create(ExecJs, (Func<ToolCallContext, string, CancellationToken, Task<ToolOutput>>)RunJavaScriptAsync),
        ToolDeclarations.Create(SetVariable, (Func<ToolCallContext, string, string, ToolOutput>)StoreVariable),
        ToolDeclarations.Create(GetVariable, (Func<ToolCallContext, string, ToolOutput>)ReadVariable),
        ToolDeclarations.Create(Final, (Func<ToolCallContext, string, ToolOutput>)Finish),
        ToolDeclarations.Create(FinalVar, (Func<ToolCallContext, string, ToolOutput>)FinishWithVariable),
    ];

    /// <summary>Checks <see cref="RlmOptions.Tools"/>: unique names, none a built-in tool's.</summary>
    /// <exception cref="ArgumentException">A tool is null, unnamed, named like a built-in tool, or named twice.</exception>
    public static void ValidateCustomTools(IList<AITool> tools)
    {
        var seen = new HashSet<string>(s_tools.Select(d => d.Name), StringComparer.Ordinal);
        foreach (var tool in tools)
        {
            if (tool is null || string.IsNullOrWhiteSpace(tool.Name))
            {
                throw new ArgumentException("RlmOptions.Tools holds a tool without a name.", nameof(tools));
            }

            if (!seen.Add(tool.Name))
            {
                throw new ArgumentException($"RlmOptions.Tools: the tool name '{tool.Name}' is {(s_tools.Any(d => d.Name == tool.Name) ? "a built-in tool's" : "used twice")}; choose another.", nameof(tools));
            }
        }
    }

    /// <summary>Gets the ten tools, in declaration order.</summary>
    public static IReadOnlyList<RlmTool> All => s_tools;

    [Description("Read characters [start, end) of the context (0-based, end exclusive). Out-of-range values are clamped. Long ranges are cut to the output limit (head and tail kept).")]
    private static ToolOutput ReadCharacters(
        ToolCallContext context,
        [Description("First character, 0-based.")] long start,
        [Description("Character after the last one (exclusive).")] long end)
    {
        var view = context.View;
        var (s, e, note) = Clamp(start, end, view.Length, "character");
        return new PeekResult(s, e, view.Length, view.Source.Text.AsMemory(view.Start + s, e - s), note);
    }

    [Description("Read lines [start, end) of the context (0-based, end exclusive), each prefixed with its line number. These are the line numbers grep prints.")]
    private static ToolOutput ReadLines(
        ToolCallContext context,
        [Description("First line, 0-based.")] long start,
        [Description("Line after the last one (exclusive).")] long end)
    {
        var view = context.View;
        var (s, e, note) = Clamp(start, end, view.LineCount, "line");
        string? location = s < e && view.Locate(view.LineBounds(s).Start) is { } at ? at.ToString() : null;
        var lines = new List<NumberedLine>();
        var result = new PeekLinesResult(s, e, view.LineCount, view.Length, location, lines, StoppedAfterLine: null, note);

        // Stop reading far past the output limit (the text will be capped anyway) and say how far we got.
        long size = ToolResultFormatter.PeekLinesHeader(result).Length;
        long stopAt = context.Options.MaxToolOutputChars * 2L;
        for (int line = s; line < e; line++)
        {
            var numbered = new NumberedLine(line, TextLimits.Line(view.Line(line), 2_000));
            lines.Add(numbered);
            size += ToolResultFormatter.PeekLinesEntryLength(numbered);
            if (size > stopAt)
            {
                return result with { StoppedAfterLine = line };
            }
        }

        return result;
    }

    [Description("Search the context with a .NET regular expression, line by line. Prints 'line @offset [document:line]: text' per matching line (line is 0-based, as peek_lines takes; offset is the line's first character, as peek and sub_llm take; document:line is 1-based and only for multi-document contexts) and the total count.")]
    private static ToolOutput Search(
        ToolCallContext context,
        [Description(".NET regular expression; ^ and $ match at line breaks.")] string pattern,
        [Description("Most matching lines to show (default 50, at most 1000).")] long max_results = 50,
        [Description("Case-insensitive match (default true).")] bool ignore_case = true,
        [Description("Lines of context to show before and after each match (default 0, at most 10).")] long context_lines = 0,
        CancellationToken cancellationToken = default)
    {
        var notes = new List<string>();
        int maxResults = (int)Math.Clamp(max_results, 1, MaxGrepResults);
        if (maxResults != max_results)
        {
            notes.Add($"max_results {max_results} clamped to {maxResults}");
        }

        int around = (int)Math.Clamp(context_lines, 0, 10);
        if (around != context_lines)
        {
            notes.Add($"context_lines {context_lines} clamped to {around}");
        }

        var view = context.View;
        List<GrepHit> hits;
        int total;
        try
        {
            (hits, total) = GrepSearch.Search(view, pattern, ignore_case, context.Options.RegexTimeout, maxResults, cancellationToken);
        }
        catch (ArgumentException e)
        {
            return new ToolError($"grep: {e.Message} Use .NET regex syntax and escape special characters such as ( ) [ ] . * + ? with a backslash.");
        }
        catch (GrepTimeoutException e)
        {
            return new ToolError($"grep: {e.Message}");
        }

        // Context lines are shown once: a match's lines before start after what an earlier match showed.
        var matches = new List<GrepMatch>(hits.Count);
        int shownUpTo = -1;
        foreach (var hit in hits)
        {
            var before = ContextLines(view, Math.Max(hit.Line - around, shownUpTo + 1), hit.Line);
            int last = Math.Min(hit.Line + around, view.LineCount - 1);
            matches.Add(new GrepMatch(hit, before, ContextLines(view, hit.Line + 1, last + 1)));
            shownUpTo = Math.Max(shownUpTo, last);
        }

        return new GrepResult(pattern, ignore_case, total, matches, notes);
    }

    private static List<NumberedLine> ContextLines(ContextView view, int from, int to)
    {
        var lines = new List<NumberedLine>(Math.Max(0, to - from));
        for (int line = from; line < to; line++)
        {
            lines.Add(new NumberedLine(line, TextLimits.Line(view.Line(line), GrepSearch.MaxLineChars)));
        }

        return lines;
    }

    [Description("Split the context into consecutive character ranges of at most chunk_size characters and/or max_tokens tokens (give either or both), each end moved back to a line break when one is in the window. Returns [{index,start,end}] to use with sub_llm or peek. Use max_tokens so that each chunk fits a worker's context window.")]
    private static ToolOutput Split(
        ToolCallContext context,
        [Description("Most characters per chunk (0 or absent: no character limit, give max_tokens).")] long chunk_size = 0,
        [Description("Characters each chunk shares with the previous one (default 0).")] long overlap = 0,
        [Description("Most tokens per chunk, counted with the o200k_base tokenizer (0 or absent: no token limit, give chunk_size).")] long max_tokens = 0)
    {
        if (chunk_size < 0 || max_tokens < 0 || chunk_size == 0 && max_tokens == 0)
        {
            return new ToolError(string.Create(CultureInfo.InvariantCulture, $"chunk: give chunk_size (characters) or max_tokens (tokens), at least 1; got chunk_size {chunk_size}, max_tokens {max_tokens}."));
        }

        // The window a token-sized chunk is looked for in: a token is rarely over 32 characters, and never scanning the
        // whole rest of a large context per chunk keeps chunk linear in the context's length.
        long size = chunk_size > 0 ? chunk_size : Math.Min(int.MaxValue, max_tokens * 32);
        if (overlap < 0 || overlap >= size)
        {
            return new ToolError($"chunk: overlap must be at least 0 and less than chunk_size ({size}), got {overlap}.");
        }

        int length = context.View.Length;
        long estimate = length <= overlap ? 1 : (length - overlap + (size - overlap) - 1) / (size - overlap);
        if (max_tokens == 0 && estimate > MaxChunks)
        {
            return new ToolError(string.Create(CultureInfo.InvariantCulture, $"chunk: chunk_size {size:N0} with overlap {overlap:N0} would make about {estimate:N0} chunks of a {length:N0}-character context; at most {MaxChunks:N0} are allowed. Use a larger chunk_size."));
        }

        int tokens = (int)Math.Min(max_tokens, int.MaxValue);
        var chunks = ComputeChunks(context.View.Span, (int)Math.Min(size, int.MaxValue), (int)overlap, tokens, MaxChunks + 1);
        if (chunks.Count > MaxChunks)
        {
            return new ToolError(string.Create(CultureInfo.InvariantCulture, $"chunk: max_tokens {max_tokens:N0} would make more than {MaxChunks:N0} chunks of a {length:N0}-character context. Use a larger max_tokens."));
        }

        return new ChunkResult(chunk_size, overlap, length, [.. chunks.Select((c, i) => new ChunkBounds(i, c.Start, c.End))], max_tokens > 0 ? max_tokens : null);
    }

    /// <summary>Splits into ranges of at most <paramref name="size"/> characters; an end moves back to just after the last line break in its window when that still makes progress.</summary>
    /// <param name="text">The text.</param>
    /// <param name="size">Most characters per chunk.</param>
    /// <param name="overlap">Characters each chunk shares with the previous one.</param>
    /// <param name="maxTokens">Most tokens per chunk (<see cref="TextTokens"/>), or 0 for no token limit.</param>
    /// <param name="maxChunks">Stops after this many chunks.</param>
    internal static List<(int Start, int End)> ComputeChunks(ReadOnlySpan<char> text, int size, int overlap, int maxTokens = 0, int maxChunks = int.MaxValue)
    {
        var chunks = new List<(int, int)>();
        int start = 0;
        while (chunks.Count < maxChunks)
        {
            int end = (int)Math.Min((long)start + size, text.Length);
            if (maxTokens > 0)
            {
                // The longest start of the window within maxTokens; at least one character past the overlap, so it moves on.
                int fits = TextTokens.Tokenizer.GetIndexByTokenCount(text[start..end], maxTokens, out _, out _);
                end = Math.Max(start + fits, Math.Min(start + overlap + 1, text.Length));
            }

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

        return chunks;
    }

    [Description("Ask a worker model a question about characters [start, end) of the context. The worker sees only that slice and answers in text. Several sub_llm calls in one reply run in parallel. Each call spends one sub-call of the budget.")]
    private static async Task<ToolOutput> AskWorkerAsync(
        ToolCallContext context,
        [Description("A self-contained question or instruction for the worker; it does not see your conversation.")] string query,
        [Description("First character of the slice, 0-based.")] long start,
        [Description("Character after the slice (exclusive).")] long end,
        WorkerChoice model,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            return new ToolError("sub_llm: query must not be empty.");
        }

        if (!model.TryResolve(context.Options.Workers, out var worker, out string? unknown))
        {
            return new ToolError("sub_llm: " + unknown);
        }

        var view = context.View;
        var (s, e, note) = Clamp(start, end, view.Length, "character");
        if (s >= e)
        {
            return new ToolError(string.Create(CultureInfo.InvariantCulture, $"sub_llm: the range [{s:N0}, {e:N0}) is empty{(note is null ? "" : " (" + note + ")")}; the context has {view.Length:N0} characters."));
        }

        var sub = await context.SubCalls.RunAsync(new SubCallRequest(query, view.Slice(s, e), context.Depth, context.TraceNode, worker), cancellationToken).ConfigureAwait(false);
        return new SubLlmResult(query, s, e, sub.Answer, sub.Error, note);
    }

    [Description("Run JavaScript (ES2023: let/const, arrow functions, template literals, destructuring, classes, Map/Set) in a persistent sandbox. Globals: context (the text, a string), print/console.log, grep(pattern, max) -> [{line,text,offset,document,document_line}], lines(start, end) -> string, set_variable(name, value), get_variable(name), llm_query(prompt) -> string, llm_query_batched(prompts) -> [string] (parallel). For counting or grouping over the whole context prefer the native helpers (5-20x faster than JS loops; they match line by line): count_lines(text, re?) -> number of lines with a match, count_matches(text, re) -> number of matches, count_by(text, re, {group, lowercase, top}) -> [[key, count], ...] most frequent first (key = capture group, default 1). Returns printed output and the value of the last expression.")]
    private static async Task<ToolOutput> RunJavaScriptAsync(
        ToolCallContext context,
        [Description("JavaScript source (ES2023).")] string code,
        CancellationToken cancellationToken)
    {
        var result = await context.Sandbox.ExecuteAsync(code, new ToolJsHost(context), cancellationToken).ConfigureAwait(false);
        return new JsResult(result.Output, result.Value, result.Error);
    }

    [Description("Store a text value under a name (letters, digits, underscore) to build answers across iterations. Shared with exec_js.")]
    private static ToolOutput StoreVariable(
        ToolCallContext context,
        [Description("Variable name, e.g. partial_results.")] string name,
        [Description("The text to store.")] string value)
    {
        if (!s_variableName.IsMatch(name))
        {
            return new ToolError($"set_variable: '{TextLimits.Line(name, 80)}' is not a valid name; use letters, digits and underscores, starting with a letter or underscore (at most 64 characters).");
        }

        context.Variables.Set(name, value);
        return new VariableStored(name, value.Length);
    }

    [Description("Read a stored variable.")]
    private static ToolOutput ReadVariable(ToolCallContext context, [Description("Variable name.")] string name) =>
        context.Variables.TryGet(name, out var value) ? new VariableValue(name, value) : new ToolError($"get_variable: {NoSuchVariable(context, name)}");

    [Description("Finish with this answer. Call it once the answer is verified.")]
    private static ToolOutput Finish(ToolCallContext context, [Description("The complete final answer.")] string answer) =>
        string.IsNullOrWhiteSpace(answer) ? new ToolError("final: answer must not be empty.") : new FinalAnswerResult(answer, Variable: null);

    [Description("Finish with the value of a stored variable as the answer.")]
    private static ToolOutput FinishWithVariable(ToolCallContext context, [Description("Variable name.")] string name) =>
        context.Variables.TryGet(name, out var value)
            ? new FinalAnswerResult(value, name)
            : new ToolError($"final_var: {NoSuchVariable(context, name)} The run continues; store the answer first or call final(answer).");

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
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"start {start:N0} clamped to {s:N0}"));
        }

        if (e != end)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"end {end:N0} clamped to {e:N0}"));
        }

        if (e < s)
        {
            notes.Add("end is before start, so the range is empty");
            e = s;
        }

        string? note = notes.Count == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{string.Join("; ", notes)} ({length:N0} {unit}s)");
        return ((int)s, (int)e, note);
    }
}
