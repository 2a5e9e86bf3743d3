using System.Runtime.ExceptionServices;
using Jint;
using Jint.Native;
using Jint.Runtime;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// <c>Array.prototype.sort()</c> without a comparator, for long arrays: Jint's own compares the elements' texts inside
/// one built-in step with no check of the limits (a million numbers take seconds). This one computes each text once,
/// sorts stably by UTF-16 code units as the specification says, and checks the limits as it goes.
/// </summary>
internal static class JsDefaultSort
{
    private const int CheckEvery = 1 << 16;

    /// <summary>Sorts <paramref name="array"/> in place: texts in order, then <c>undefined</c>s, then holes; returns it.</summary>
    public static JsValue Sort(Engine engine, JsArray array)
    {
        uint length = array.Length;
        var items = new List<(string Key, int Index, JsValue Value)>();
        int undefinedCount = 0;
        for (uint i = 0; i < length; i++)
        {
            if ((i & (CheckEvery - 1)) == 0)
            {
                engine.Constraints.Check();
            }

            if (!array.HasProperty(i))
            {
                continue;
            }

            var value = array.Get(i);
            if (value.IsUndefined())
            {
                undefinedCount++;
                continue;
            }

            items.Add((TypeConverter.ToString(value), items.Count, value));
        }

        long comparisons = 0;
        try
        {
            items.Sort((a, b) =>
            {
                if ((++comparisons & (CheckEvery - 1)) == 0)
                {
                    engine.Constraints.Check();
                }

                int order = string.CompareOrdinal(a.Key, b.Key);
                return order != 0 ? order : a.Index.CompareTo(b.Index);
            });
        }
        catch (InvalidOperationException e) when (e.InnerException is { } limit)
        {
            // List.Sort wraps what the comparer throws: a limit or the caller's cancellation goes on as itself.
            ExceptionDispatchInfo.Capture(limit).Throw();
        }

        uint at = 0;
        foreach (var item in items)
        {
            array.Set(at++, item.Value, true);
        }

        for (int u = 0; u < undefinedCount; u++)
        {
            array.Set(at++, JsValue.Undefined, true);
        }

        for (; at < length; at++)
        {
            if (!array.Delete(at))
            {
                throw new JavaScriptException(engine.Intrinsics.TypeError, "sort: an element could not be removed from the array.");
            }
        }

        return array;
    }
}
