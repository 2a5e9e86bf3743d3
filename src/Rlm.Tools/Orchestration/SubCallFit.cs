using System.Globalization;
using Microsoft.Extensions.AI;
using Rlm.Tools.Context;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// Whether a leaf sub-call's prompt fits the worker's context window (<see cref="RlmOptions.ModelContextWindows"/>) less
/// the output reserve (<see cref="RlmOptions.SubCallOutputReserveTokens"/>), counted with <see cref="TextTokens"/>.
/// A prompt that does not fit is never sent: the caller's model reads why and how large a slice may be.
/// </summary>
internal sealed class SubCallFit
{
    /// <summary>Tokens kept back when measuring the largest slice that fits.</summary>
    private const int SafetyTokens = 8;

    private SubCallFit(string model, int window, int reserve)
    {
        Model = model;
        Window = window;
        Reserve = reserve;
    }

    /// <summary>Gets the worker's model id.</summary>
    public string Model { get; }

    /// <summary>Gets the worker's context window in tokens.</summary>
    public int Window { get; }

    /// <summary>Gets the tokens kept free for the answer.</summary>
    public int Reserve { get; }

    /// <summary>Gets the most tokens a prompt may have.</summary>
    public int Limit => Math.Max(0, Window - Reserve);

    /// <summary>
    /// The check for a run's worker: its id is <see cref="RlmOptions.WorkerModelId"/>, else the client's default model;
    /// <see langword="null"/> (no check) when there is no id or its window is unknown.
    /// </summary>
    public static SubCallFit? For(RlmOptions options, IChatClient worker)
    {
        string? model = options.WorkerModelId ?? worker.GetService<ChatClientMetadata>()?.DefaultModelId;
        return model is not null && RlmModelContextWindows.Find(options.ModelContextWindows, model) is { } window
            ? new SubCallFit(model, window, options.SubCallOutputReserveTokens)
            : null;
    }

    /// <summary>
    /// The check for a named worker: its <see cref="RlmWorker.ContextWindow"/>, else the window of its model id (its
    /// <see cref="RlmWorker.ModelId"/>, else its client's default model) in <see cref="RlmOptions.ModelContextWindows"/>;
    /// <see langword="null"/> (no check) when neither is known.
    /// </summary>
    public static SubCallFit? For(RlmOptions options, RlmWorker worker)
    {
        string model = worker.ModelId ?? worker.Client.GetService<ChatClientMetadata>()?.DefaultModelId ?? worker.Name;
        int? window = worker.ContextWindow ?? RlmModelContextWindows.Find(options.ModelContextWindows, model);
        return window is { } tokens ? new SubCallFit(model, tokens, options.SubCallOutputReserveTokens) : null;
    }

    /// <summary>Counts a prompt's tokens: every message's text plus <see cref="TextTokens.PerMessage"/> each.</summary>
    public static int CountPrompt(IReadOnlyList<ChatMessage> messages)
    {
        long total = 0;
        foreach (var message in messages)
        {
            total += TextTokens.Count(message.Text) + TextTokens.PerMessage;
        }

        return (int)Math.Min(total, int.MaxValue);
    }

    /// <summary>Checks a leaf prompt; returns the error for the caller's model, or <see langword="null"/> when it fits.</summary>
    /// <param name="messages">The prompt as it would be sent.</param>
    /// <param name="query">The question (the whole variable part when there is no slice).</param>
    /// <param name="slice">The slice in the prompt, or <see langword="null"/> for a prompt alone (<c>llm_query</c>).</param>
    public string? Check(IReadOnlyList<ChatMessage> messages, string query, ContextView? slice)
    {
        int total = CountPrompt(messages);
        if (total <= Limit)
        {
            return null;
        }

        // The part the caller can shrink is the slice (or, without one, the prompt); the rest is fixed overhead.
        int part = slice is null ? TextTokens.Count(query) : TextTokens.Count(slice.Span);
        long room = Limit - (long)(total - part);
        string what = slice is null ? "prompt" : "slice";
        string head = string.Create(CultureInfo.InvariantCulture,
            $"the {what} has {part:N0} tokens ({total:N0} with the instructions), more than the worker '{Model}' can take: its context window is {Window:N0} tokens, less {Reserve:N0} kept for the answer, so at most {Limit:N0}. It was not sent. ");
        if (room <= 0 || part == 0)
        {
            return head + string.Create(CultureInfo.InvariantCulture, $"Even an empty {what} does not fit; shorten the question.");
        }

        // Measured, not estimated from the ratio (digits and symbols make the density uneven): the longest start of the
        // slice that fits, less a little for the prompt's own figures (its character count) that change with the size.
        var text = slice is null ? query.AsSpan() : slice.Span;
        int fitTokens = (int)Math.Max(1, room - SafetyTokens);
        int fitChars = TextTokens.Tokenizer.GetIndexByTokenCount(text, fitTokens, out _, out _);
        return head + (slice is null
            ? string.Create(CultureInfo.InvariantCulture, $"The largest prompt that fits has about {fitChars:N0} characters ({fitTokens:N0} tokens); split it into smaller prompts.")
            : string.Create(CultureInfo.InvariantCulture, $"The largest slice that fits has about {fitChars:N0} characters ({fitTokens:N0} tokens): call chunk with max_tokens={fitTokens} and send one sub_llm per chunk (they run in parallel)."));
    }
}
