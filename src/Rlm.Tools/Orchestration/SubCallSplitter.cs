using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Answers a leaf sub-call whose slice is over its worker's window (<see cref="RlmOptions.AutoSplitOversizedSubCalls"/>):
/// the slice is cut at line breaks into parts whose prompts fit, each part is one ordinary sub-call (so the window check,
/// budgets, concurrency, memoization and events apply to it), they run in parallel, and their answers are joined in
/// document order under a label with the part's line range.
/// </summary>
internal static class SubCallSplitter
{
    /// <summary>Tokens kept back per part: the prompt's own figures (the slice's character count) change with its size.</summary>
    private const int SafetyTokens = 16;

    /// <summary>
    /// Cuts <paramref name="slice"/> into consecutive parts of at most <paramref name="maxTokens"/> tokens each, every end
    /// moved back to just after a line break when the part holds one; a line longer than the limit is cut at the last
    /// character index whose start fits. Stops after <paramref name="maxParts"/> parts (the rest uncovered).
    /// </summary>
    public static List<ContextView> Split(ContextView slice, int maxTokens, int maxParts)
    {
        // The same cutting as chunk(max_tokens=…): a token is rarely over 32 characters, so that window always holds enough.
        int window = (int)Math.Min(int.MaxValue, maxTokens * 32L);
        return [.. RlmToolSet.ComputeChunks(slice.Span, window, overlap: 0, maxTokens, maxParts).Select(r => slice.Slice(r.Start, r.End))];
    }

    /// <summary>Splits the request's slice, runs the parts through <paramref name="runner"/> in parallel and combines their answers.</summary>
    /// <param name="runner">The run's sub-call runner (each part is one of its sub-calls).</param>
    /// <param name="run">The query.</param>
    /// <param name="request">The oversized sub-call (its slice is not <see langword="null"/>).</param>
    /// <param name="fit">The worker's window check that refused it.</param>
    /// <param name="messages">The whole slice's leaf prompt, to measure the fixed part of a prompt.</param>
    /// <param name="tooLarge">The refusal, returned when no split can help.</param>
    /// <param name="cancellationToken">Cancels the parts.</param>
    public static async Task<SubCallResult> RunAsync(ISubCallRunner runner, QueryRun run, SubCallRequest request, SubCallFit fit, IReadOnlyList<ChatMessage> messages, string tooLarge, CancellationToken cancellationToken)
    {
        var slice = request.Slice!;
        int depth = request.CallerDepth + 1;
        int sliceTokens = TextTokens.Count(slice.Span);
        int room = fit.Limit - (SubCallFit.CountPrompt(messages) - sliceTokens) - SafetyTokens;
        if (room < 1)
        {
            return SubCallResult.Failure(tooLarge); // even an empty slice does not fit: only a shorter question helps
        }

        int left = run.Budget.SubCallsLeft;
        var parts = Split(slice, room, left + 1);
        if (parts.Count > left)
        {
            return SubCallResult.Failure(tooLarge + string.Create(CultureInfo.InvariantCulture,
                $" Splitting it would take more than {left:N0} parts, and only {left:N0} sub-calls of the budget are left: ask about a smaller range."));
        }

        using var step = run.Observer.SubCallSplit(request.Parent, depth, parts.Count, sliceTokens, fit.Limit, fit.Model);
        var results = await Task.WhenAll(parts.Select(part => runner.RunAsync(request with { Slice = part, Parent = step.Node }, cancellationToken))).ConfigureAwait(false);
        bool allFailed = results.All(r => r.Failed);
        string combined = Combine(parts, results, sliceTokens, fit);
        step.Complete(combined, allFailed);
        return allFailed ? SubCallResult.Failure(combined) : SubCallResult.Success(combined);
    }

    /// <summary>
    /// The stated rule: a line saying what was split, then each part's answer in document order under
    /// <c>[part i/n, lines a–b]</c> (1-based lines of the whole context; in a corpus of documents followed by the
    /// <c>document:line</c> range, as citations name it); a failed part says so in its place.
    /// </summary>
    internal static string Combine(IReadOnlyList<ContextView> parts, IReadOnlyList<SubCallResult> results, int sliceTokens, SubCallFit fit)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"The slice ({sliceTokens:N0} tokens) was over the worker '{fit.Model}''s limit of {fit.Limit:N0} tokens, so it was split at line breaks into {parts.Count} parts, each answered separately; their answers follow in document order, each under its part and line range.");
        for (int i = 0; i < parts.Count; i++)
        {
            int first = parts[i].FirstLine + 1;
            int last = parts[i].FirstLine + parts[i].LineCount;
            string lines = first == last ? string.Create(CultureInfo.InvariantCulture, $"line {first:N0}") : string.Create(CultureInfo.InvariantCulture, $"lines {first:N0}–{last:N0}");
            if (Documents(parts[i]) is { } where)
            {
                lines += ", " + where;
            }

            text.Append(CultureInfo.InvariantCulture, $"\n\n[part {i + 1}/{parts.Count}, {lines}]");
            text.Append(results[i].Failed ? " failed: " + results[i].Error : "\n" + results[i].Answer);
        }

        return text.ToString();
    }

    /// <summary>Where a part lies in a corpus of documents, as citations name it (<c>app.log:1–40</c>, <c>a.md:7–b.md:3</c>); <see langword="null"/> without documents.</summary>
    private static string? Documents(ContextView part)
    {
        // A part may start on a document's header line, which has no document line: its first text line names it.
        DocumentLocation? start = null;
        for (int line = 0; line < Math.Min(part.LineCount, 3) && start is null; line++)
        {
            start = part.Locate(part.LineBounds(line).Start);
        }

        if (part.Length == 0 || start is not { } first || part.Locate(part.Length - 1) is not { } last)
        {
            return null;
        }

        return first.Document == last.Document
            ? string.Create(CultureInfo.InvariantCulture, $"{first.Document}:{first.Line}–{last.Line}")
            : string.Create(CultureInfo.InvariantCulture, $"{first}–{last}");
    }
}
