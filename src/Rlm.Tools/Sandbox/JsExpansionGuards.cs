using System.Globalization;
using System.Text;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Guards for the built-ins whose result can be much larger than their input, or that run over a huge input in one
/// unchecked step, measured on Jint 4.18: <c>encodeURIComponent('é'.repeat(1e8))</c> took 9 s and 4.6 GB, a default
/// <c>sort()</c> of a 6e7-element <c>Float64Array</c> 13 s, <c>flat()</c> of 1e4 arrays of 1e4 built 1e8 elements
/// (1.9 GB) before the memory check saw them.
/// </summary>
/// <remarks>
/// Long strings go through the original built-in in chunks of <see cref="ChunkChars"/> characters, cut where the
/// operation is local (never inside a surrogate pair; for <c>normalize</c> before a character below U+0300, which
/// never combines with what precedes it), with the limits checked and the output held to the memory limit between
/// chunks: the result is the one the built-in gives on the whole text. Typed-array <c>sort</c>/<c>toSorted</c> go
/// through a comparator that checks the limits, or, without one on a long array of numbers, through
/// <see cref="JsTypedArraySort"/>; either is refused up front when its working memory would pass the limit. <c>flat</c> refuses up front a result with more elements than the memory limit holds.
/// </remarks>
internal static class JsExpansionGuards
{
    /// <summary>Characters per chunk: one chunk of the slowest of these built-ins takes well under 50 ms.</summary>
    public const int ChunkChars = 1 << 20;

    /// <summary>Typed arrays longer than this are sorted without a comparator by <see cref="JsTypedArraySort"/> (BigInts: through a checked comparator).</summary>
    public const int CheckedSortLength = 1 << 16;

    public static void Install(Engine engine, long memoryLimitBytes)
    {
        var global = engine.Global;
        foreach (string name in (ReadOnlySpan<string>)["encodeURI", "encodeURIComponent", "escape", "decodeURI", "decodeURIComponent", "unescape"])
        {
            var original = (Function)global.Get(name);
            Func<string, int, bool> boundary = name.StartsWith("decode", StringComparison.Ordinal) ? BeforeUtf8Start
                : name == "unescape" ? OutsideEscape
                : BetweenCodePoints;
            Replace(engine, global, name, (_, args) => args.At(0) is JsString { Length: > ChunkChars } text
                ? Chunked(engine, memoryLimitBytes, name, text.ToString(), boundary, chunk => original.Call(JsValue.Undefined, [chunk]))
                : original.Call(JsValue.Undefined, args));
        }

        var stringPrototype = (ObjectInstance)engine.GetValue("String").AsObject().Get("prototype");
        foreach (string name in (ReadOnlySpan<string>)["toUpperCase", "toLowerCase", "toLocaleUpperCase", "toLocaleLowerCase", "normalize"])
        {
            var original = (Function)stringPrototype.Get(name);
            Func<string, int, bool> boundary = name == "normalize" ? NormalizationBoundary : BetweenCodePoints;
            Replace(engine, stringPrototype, name, (self, args) =>
            {
                if (self is not JsString { Length: > ChunkChars } text)
                {
                    return original.Call(self, args);
                }

                // Arguments are validated (a bad normalization form or locale throws) before any work.
                original.Call(JsString.Empty, args);
                return Chunked(engine, memoryLimitBytes, name, text.ToString(), boundary, chunk => original.Call(chunk, args));
            });
        }

        var typedArrayPrototype = (ObjectInstance)engine.Evaluate("Object.getPrototypeOf(Int8Array.prototype)");
        var bigIntOrder = new ClrFunction(engine, "compare", static (_, args) => CompareBigInts(args.At(0), args.At(1)), 2);
        var slice = (Function)typedArrayPrototype.Get("slice");
        foreach (string name in (ReadOnlySpan<string>)["sort", "toSorted"])
        {
            var original = (Function)typedArrayPrototype.Get(name);
            bool copy = name == "toSorted";
            Replace(engine, typedArrayPrototype, name, (self, args) =>
            {
                if (self is not JsTypedArray { Length: > CheckedSortLength } typed)
                {
                    return args.At(0) is Function small ? original.Call(self, [JsBulkGuards.Ticking(engine, small)]) : original.Call(self, args);
                }

                bool bigInts = typed[0] is JsBigInt;
                if (args.At(0) is Function comparator || bigInts)
                {
                    // Jint copies the elements out as JavaScript values: a reference each, and a 24-byte number for
                    // elements wider than a byte (its small-number cache covers bytes).
                    EnsureSortFits(engine, typed, name, TypeConverter.ToNumber(typed.Get("BYTES_PER_ELEMENT")) > 1 ? 32 : 8, memoryLimitBytes);
                    return original.Call(self, [JsBulkGuards.Ticking(engine, args.At(0) as Function ?? bigIntOrder)]);
                }

                if (!args.At(0).IsUndefined())
                {
                    return original.Call(self, args);
                }

                EnsureSortFits(engine, typed, name, JsTypedArraySort.BytesPerElement, memoryLimitBytes);
                return JsTypedArraySort.Sort(engine, copy ? (JsTypedArray)slice.Call(self, []) : typed);
            });
        }

        var arrayPrototype = (ObjectInstance)engine.Intrinsics.Array.Get("prototype");
        var flat = (Function)arrayPrototype.Get("flat");
        Replace(engine, arrayPrototype, "flat", (self, args) =>
        {
            if (self is JsArray array)
            {
                double depth = args.At(0).IsUndefined() ? 1 : TypeConverter.ToIntegerOrInfinity(args.At(0));
                EnsureFlatFits(engine, array, depth, memoryLimitBytes);
            }

            return flat.Call(self, args);
        });
    }

    /// <summary>
    /// Throws a <c>RangeError</c> when sorting <paramref name="array"/> would need more working memory than the limit
    /// (unchecked, Jint's sort of a 6e7-element array took 1.5 GB before the memory check saw it).
    /// </summary>
    private static void EnsureSortFits(Engine engine, JsTypedArray array, string what, int bytesPerElement, long memoryLimitBytes)
    {
        double bytes = (double)array.Length * bytesPerElement;
        if (bytes > memoryLimitBytes)
        {
            throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
                $"{what} of {array.Length:N0} elements would need about {bytes:N0} bytes, more than the sandbox's memory limit ({JsLimitExceededException.FormatBytes(memoryLimitBytes)})."));
        }
    }

    /// <summary>
    /// Throws a <c>RangeError</c> when flattening <paramref name="array"/> to <paramref name="depth"/> would visit more
    /// elements than the memory limit holds at 8 bytes each (holes counted: <c>flat</c> visits them too).
    /// </summary>
    private static void EnsureFlatFits(Engine engine, JsArray array, double depth, long memoryLimitBytes)
    {
        long limit = memoryLimitBytes / 8;
        long count = 0;
        long visits = 0;
        var pending = new Stack<(JsArray Array, double Depth)>();
        pending.Push((array, depth));
        while (pending.Count > 0)
        {
            var (current, level) = pending.Pop();
            uint length = current.Length;
            if (level < 1)
            {
                count += length;
            }
            else
            {
                for (uint i = 0; i < length; i++)
                {
                    if ((++visits & (JsBulkGuards.CheckEvery - 1)) == 0)
                    {
                        engine.Constraints.Check();
                    }

                    // Only own data elements are looked at: a getter runs once, inside flat itself.
                    if (current.GetOwnProperty(i) is { } descriptor && descriptor != PropertyDescriptor.Undefined
                        && !descriptor.IsAccessorDescriptor() && descriptor.Value is JsArray inner)
                    {
                        pending.Push((inner, level - 1));
                    }
                    else
                    {
                        count++;
                    }

                    if (count > limit)
                    {
                        break;
                    }
                }
            }

            if (count > limit)
            {
                throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
                    $"flat would build an array of more than {limit:N0} elements, more than the sandbox's memory limit ({JsLimitExceededException.FormatBytes(memoryLimitBytes)})."));
            }
        }
    }

    /// <summary>Runs <paramref name="map"/> over <paramref name="text"/> a chunk at a time, checking the limits and the output's size between chunks.</summary>
    private static JsString Chunked(Engine engine, long memoryLimitBytes, string what, string text, Func<string, int, bool> isBoundary, Func<JsString, JsValue> map)
    {
        var output = new StringBuilder();
        int start = 0;
        while (start < text.Length)
        {
            int end = (int)Math.Min(text.Length, (long)start + ChunkChars);
            while (end < text.Length && !isBoundary(text, end))
            {
                end++;
            }

            output.Append(TypeConverter.ToString(map(new JsString(text[start..end]))));
            if ((long)output.Length * sizeof(char) > memoryLimitBytes)
            {
                throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
                    $"{what} would build a string of more than {memoryLimitBytes / sizeof(char):N0} characters, more than the sandbox's memory limit ({JsLimitExceededException.FormatBytes(memoryLimitBytes)})."));
            }

            engine.Constraints.Check();
            start = end;
        }

        return new JsString(output.ToString());
    }

    private static bool BetweenCodePoints(string text, int at) => !(char.IsLowSurrogate(text[at]) && char.IsHighSurrogate(text[at - 1]));

    /// <summary>Not inside a <c>%XX</c> or <c>%uXXXX</c> escape, nor between two escapes (a UTF-8 sequence spans several).</summary>
    private static bool OutsideEscape(string text, int at)
    {
        for (int back = 0; back <= 5 && at - back >= 0; back++)
        {
            if (text[at - back] == '%')
            {
                return false;
            }
        }

        return BetweenCodePoints(text, at);
    }

    /// <summary>
    /// Not inside a <c>%XX</c> escape, and not before one that continues a UTF-8 sequence (<c>%80</c>–<c>%BF</c>): a text
    /// made only of escapes still has places to cut.
    /// </summary>
    private static bool BeforeUtf8Start(string text, int at)
    {
        if (text[at - 1] == '%' || (at >= 2 && text[at - 2] == '%'))
        {
            return false;
        }

        return text[at] != '%'
            ? BetweenCodePoints(text, at)
            : at + 2 < text.Length && int.TryParse(text.AsSpan(at + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value) && value is < 0x80 or > 0xBF;
    }

    /// <summary>Before a character below U+0300: a starter that composes with nothing before it, in every normalization form.</summary>
    private static bool NormalizationBoundary(string text, int at) => text[at] < '\u0300';

    /// <summary>The default order of BigInt typed-array elements.</summary>
    private static JsValue CompareBigInts(JsValue x, JsValue y) =>
        JsNumber.Create(TypeConverter.ToBigInt(x).CompareTo(TypeConverter.ToBigInt(y)));

    /// <summary>Replaces a built-in with <paramref name="body"/>, keeping its name and length.</summary>
    private static void Replace(Engine engine, ObjectInstance target, string name, Func<JsValue, JsValue[], JsValue> body)
    {
        int length = (int)TypeConverter.ToInteger(((Function)target.Get(name)).Get("length"));
        var wrapper = new ClrFunction(engine, name, body, length, PropertyFlag.Configurable);
        target.FastSetProperty(name, new PropertyDescriptor(wrapper, PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));
    }
}
