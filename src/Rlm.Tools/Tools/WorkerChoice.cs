using Rlm.Tools.Context;

namespace Rlm.Tools.Tools;

/// <summary>
/// The worker a sub-call names (<c>sub_llm</c>'s <c>model</c> argument, JavaScript's <c>llm_query(…, { model })</c>):
/// <see langword="null"/> for the default worker. As a tool parameter it is left out of the schema the method writes;
/// <see cref="ToolDeclarations.WithWorkers"/> declares it, with the names, only when the run has workers.
/// </summary>
/// <param name="Name">The name the model gave, or <see langword="null"/>.</param>
internal readonly record struct WorkerChoice(string? Name)
{
    /// <summary>The argument name, in <c>sub_llm</c> and in <c>llm_query</c>'s options.</summary>
    public const string ArgumentName = "model";

    /// <summary>Finds the named worker; no name is the default worker (<see langword="null"/>).</summary>
    /// <param name="workers">The run's workers (<see cref="RlmOptions.Workers"/>).</param>
    /// <param name="worker">The worker, or <see langword="null"/> for the default.</param>
    /// <param name="error">Why the name is not one of them, with the names to choose from; <see langword="null"/> on success.</param>
    public bool TryResolve(IList<RlmWorker> workers, out RlmWorker? worker, out string? error)
    {
        worker = null;
        error = null;
        if (Name is null)
        {
            return true;
        }

        foreach (var candidate in workers)
        {
            if (string.Equals(candidate.Name, Name, StringComparison.Ordinal))
            {
                worker = candidate;
                return true;
            }
        }

        string given = TextLimits.Line(Name, 80);
        error = workers.Count == 0
            ? $"unknown model '{given}': this run has no named workers; leave '{ArgumentName}' out to ask the default worker."
            : $"unknown model '{given}'; the workers are: {string.Join(", ", workers.Select(w => w.Name))} (or leave '{ArgumentName}' out for the default worker).";
        return false;
    }

    /// <summary>Checks <see cref="RlmOptions.Workers"/>: no null entry, names unique (ordinal).</summary>
    /// <exception cref="ArgumentException">A worker is <see langword="null"/> or a name is used twice.</exception>
    public static void Validate(IList<RlmWorker> workers)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var worker in workers)
        {
            if (worker is null)
            {
                throw new ArgumentException("RlmOptions.Workers holds a null worker.", nameof(workers));
            }

            if (!seen.Add(worker.Name))
            {
                throw new ArgumentException($"RlmOptions.Workers: the worker name '{worker.Name}' is used twice; names must be unique.", nameof(workers));
            }
        }
    }
}
