using Microsoft.Extensions.AI;
using Rlm.Tools.Context;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Orchestration;

// What a sub-call would cost before it is sent: the estimate a batch is checked with (see SubCallBatch).
internal sealed partial class SubCallRunner
{
    /// <inheritdoc />
    public string? RefuseBatch(IReadOnlyList<SubCallRequest> requests, RlmTraceNode parent) =>
        requests.Count < 2 ? null : SubCallBatch.Check(_run, this, requests, parent, requests[0].CallerDepth);

    /// <summary>
    /// The input tokens a sub-call would send and how many requests it takes (see <see cref="SubCallBatch"/> for the
    /// formula), or <see langword="null"/> when it would be refused before anything is sent.
    /// </summary>
    internal (long PromptTokens, int Requests)? Estimate(SubCallRequest request)
    {
        var options = _run.Options;
        var (query, slice) = (request.Query, request.Slice);
        int depth = request.CallerDepth + 1;
        bool leaf = slice is null || depth >= options.MaxDepth;
        if (depth > options.MaxDepth || (leaf && (slice?.Length ?? query.Length) > options.MaxLeafChars))
        {
            return null;
        }

        if (!leaf)
        {
            // A recursive session's first request; its slice is read through tools later.
            string system = SessionPrompts.System(options, options.WorkerSystemPrompt ?? RlmPrompts.Worker, slice, depth);
            return (TextTokens.Count(system) + TextTokens.Count(query) + (2 * TextTokens.PerMessage), 1);
        }

        int prompt = SubCallFit.CountPrompt(LeafMessages(query, slice, depth));
        var fit = request.Worker is { } named ? SubCallFit.For(options, named) : _fit;
        if (fit is null || prompt <= fit.Limit)
        {
            return (prompt, 1);
        }

        if (!options.AutoSplitOversizedSubCalls || slice is null)
        {
            return null;
        }

        // Split: every part repeats the fixed part of the prompt.
        int sliceTokens = TextTokens.Count(slice.Span);
        int overhead = prompt - sliceTokens;
        int room = fit.Limit - overhead;
        if (room < 1)
        {
            return null;
        }

        int parts = (int)Math.Min(int.MaxValue, ((long)sliceTokens + room - 1) / room);
        return (sliceTokens + ((long)overhead * parts), parts);
    }

    /// <summary>The model id a sub-call's usage would be priced by, when known.</summary>
    internal string? ModelIdOf(SubCallRequest request) =>
        request.Worker is { } named
            ? named.ModelId ?? named.Client.GetService<ChatClientMetadata>()?.DefaultModelId
            : _run.Options.WorkerModelId ?? _fit?.Model;
}
