using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace Rlm.Tools;

/// <summary>
/// A named worker model the root (and recursive sessions) may route a sub-call to: <c>sub_llm(…, model: "name")</c> or
/// JavaScript's <c>llm_query(prompt, { model: "name" })</c>. Listed in <see cref="RlmOptions.Workers"/>; a sub-call that
/// names no worker goes to the default worker (the <see cref="RecursiveLanguageModel"/>'s worker client with
/// <see cref="RlmOptions.WorkerModelId"/>), as without workers.
/// </summary>
/// <remarks>
/// The names are declared to the model as the enum of <c>sub_llm</c>'s <c>model</c> argument, each with its
/// <see cref="Description"/>. Usage and cost are kept per model id (<see cref="RlmResult.UsageByModel"/>), so a worker's
/// requests are priced by <see cref="RlmOptions.Prices"/> under <see cref="ModelId"/> (or the id its client reports).
/// </remarks>
public sealed class RlmWorker
{
    // The function-name charset of the common chat APIs, so a name reads the same in every declaration.
    private static readonly Regex s_name = new("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant);

    /// <summary>Creates a worker.</summary>
    /// <param name="name">The name the model uses (letters, digits, <c>_</c> and <c>-</c>; 1 to 64 characters).</param>
    /// <param name="client">The model's client.</param>
    /// <param name="modelId">The model id sent with its requests; <see langword="null"/> for the client's own default.</param>
    /// <param name="contextWindow">The model's context window in tokens; <see langword="null"/> when not known.</param>
    /// <param name="description">What the worker is good for, shown to the model; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="client"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or has characters outside the tool-name set.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="contextWindow"/> is less than 1.</exception>
    public RlmWorker(string name, IChatClient client, string? modelId = null, int? contextWindow = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(client);
        if (!s_name.IsMatch(name))
        {
            throw new ArgumentException($"The worker name '{name}' is not valid: use 1 to 64 letters, digits, '_' or '-'.", nameof(name));
        }

        if (contextWindow is { } tokens)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1, nameof(contextWindow));
        }

        Name = name;
        Client = client;
        ModelId = modelId;
        ContextWindow = contextWindow;
        Description = description;
    }

    /// <summary>Gets the name the model uses to pick this worker (unique within <see cref="RlmOptions.Workers"/>, ordinal).</summary>
    /// <value>1 to 64 characters of <c>A-Z a-z 0-9 _ -</c>.</value>
    public string Name { get; }

    /// <summary>Gets the model's client.</summary>
    public IChatClient Client { get; }

    /// <summary>Gets the model id sent with this worker's requests (<see cref="ChatOptions.ModelId"/>).</summary>
    /// <value><see langword="null"/>: the client's own default model.</value>
    public string? ModelId { get; }

    /// <summary>Gets the model's context window in tokens (prompt and reply together).</summary>
    /// <value><see langword="null"/>: not known.</value>
    public int? ContextWindow { get; }

    /// <summary>Gets what the worker is good for, shown to the model next to its name (for example "fast and cheap; for extraction").</summary>
    /// <value><see langword="null"/>: the name alone.</value>
    public string? Description { get; }

    /// <inheritdoc />
    public override string ToString() => ModelId is null ? Name : $"{Name} ({ModelId})";
}
