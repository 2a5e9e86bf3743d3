using System.Collections.Concurrent;

namespace Rlm.Tools.Context;

/// <summary>
/// A session's named string variables, shared by <c>set_variable</c>, <c>get_variable</c>, <c>final_var</c> and the
/// JavaScript sandbox. Thread-safe: the calls of one reply run concurrently.
/// </summary>
internal sealed class VariableStore
{
    private readonly ConcurrentDictionary<string, string> _values = new(StringComparer.Ordinal);

    public void Set(string name, string value) => _values[name] = value;

    public bool TryGet(string name, out string value) => _values.TryGetValue(name, out value!);

    public bool Remove(string name) => _values.TryRemove(name, out _);

    /// <summary>Gets the variable names, sorted ordinally.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            var names = _values.Keys.ToList();
            names.Sort(StringComparer.Ordinal);
            return names;
        }
    }

    public int Count => _values.Count;
}
