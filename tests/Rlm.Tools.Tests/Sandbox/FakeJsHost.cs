using System.Collections.Concurrent;
using Rlm.Tools.Context;
using Rlm.Tools.Sandbox;
using Rlm.Tools.Tools;

namespace Rlm.Tools.Tests.Sandbox;

/// <summary>A hand-written <see cref="IJsHost"/>: a real view and variable store, the real grep, and a scriptable model that records prompts.</summary>
internal sealed class FakeJsHost(ContextView view) : IJsHost
{
    private readonly ConcurrentQueue<string> _prompts = new();
    private readonly ConcurrentQueue<IReadOnlyList<string>> _batches = new();
    private readonly ConcurrentQueue<string?> _models = new();

    public FakeJsHost(string text)
        : this(new ContextView(ContextText.FromString(text)))
    {
    }

    public ContextView View { get; } = view;

    public VariableStore Variables { get; } = new();

    /// <summary>Gets or sets the model: by default it answers <c>"answer:" + prompt</c>.</summary>
    public Func<string, CancellationToken, Task<string>> Model { get; set; } = (prompt, _) => Task.FromResult("answer:" + prompt);

    public IReadOnlyList<string> Prompts => [.. _prompts];

    public IReadOnlyList<IReadOnlyList<string>> Batches => [.. _batches];

    public IReadOnlyList<GrepHit> Grep(string pattern, int maxResults, CancellationToken cancellationToken) =>
        GrepSearch.Search(View, pattern, ignoreCase: true, TimeSpan.FromSeconds(1), Math.Clamp(maxResults, 1, 100_000), cancellationToken).Hits;

    /// <summary>Gets the worker each <c>llm_query</c>/<c>llm_query_batched</c> call named, in call order (<see langword="null"/> for none).</summary>
    public IReadOnlyList<string?> Models => [.. _models];

    public Task<string> LlmQueryAsync(string prompt, string? model, CancellationToken cancellationToken)
    {
        _models.Enqueue(model);
        _prompts.Enqueue(prompt);
        return Model(prompt, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> LlmQueryBatchedAsync(IReadOnlyList<string> prompts, string? model, CancellationToken cancellationToken)
    {
        _models.Enqueue(model);
        _batches.Enqueue([.. prompts]);
        foreach (var prompt in prompts)
        {
            _prompts.Enqueue(prompt);
        }

        return await Task.WhenAll(prompts.Select(p => Model(p, cancellationToken))).ConfigureAwait(false);
    }
}
