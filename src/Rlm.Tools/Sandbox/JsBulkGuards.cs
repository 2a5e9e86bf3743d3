using System.Globalization;
using System.Text.RegularExpressions;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Native.Symbol;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Guards for the built-ins that do a whole job in one step, where Jint 4.18 checks no limit: it checks constraints
/// before statements, so a callback with no statement (<c>(a, b) => a - b</c>) or no callback at all lets <c>sort</c>,
/// <c>JSON.stringify</c>, <c>replace</c> and spreading a string run past the time limit and build gigabytes.
/// </summary>
/// <remarks>
/// Each guard either checks the limits (time, cancellation, memory: <see cref="SandboxConstraint"/>) every
/// <see cref="CheckEvery"/> steps of the built-in's own loop, through a callback the built-in calls anyway, or refuses a
/// result larger than the memory limit before it is built. Results are those of the unguarded built-in.
/// </remarks>
internal static class JsBulkGuards
{
    /// <summary>Steps between two checks of the limits inside one built-in.</summary>
    public const int CheckEvery = 1024;

    /// <summary>Strings longer than this (4 Mi characters: a native spread of that many takes about 0.2 s and 200 MB) are iterated (spread, <c>Array.from</c>, <c>for…of</c>) with the limits checked.</summary>
    public const int CheckedIterationChars = 1 << 22;

    /// <summary>Arrays longer than this are sorted without a comparator through a checked one that compares as the default does.</summary>
    public const int CheckedSortLength = 1 << 16;

    public static void Install(Engine engine, long memoryLimitBytes)
    {
        var arrayPrototype = (ObjectInstance)engine.Intrinsics.Array.Get("prototype");
        foreach (string name in (ReadOnlySpan<string>)["sort", "toSorted"])
        {
            WrapArguments(engine, arrayPrototype, name, (_, args) => args.At(0) is Function comparator ? [Ticking(engine, comparator)] : args);
        }

        // The default order on a long array: sorted here, with the limits checked (Jint's own runs to the end unchecked).
        var sort = (Function)arrayPrototype.Get("sort");
        var checkedSort = new ClrFunction(engine, "sort", (self, args) =>
            args.At(0).IsUndefined() && self is JsArray { Length: > CheckedSortLength } array
                ? JsDefaultSort.Sort(engine, array)
                : sort.Call(self, args), 1, PropertyFlag.Configurable);
        arrayPrototype.FastSetProperty("sort", new PropertyDescriptor(checkedSort, PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));

        // toSorted() is a sorted copy in which holes read as undefined: Array.from makes that copy, with checks.
        var toSorted = (Function)arrayPrototype.Get("toSorted");
        var from = (Function)engine.Intrinsics.Array.Get("from");
        var checkedToSorted = new ClrFunction(engine, "toSorted", (self, args) =>
            args.At(0).IsUndefined() && self is JsArray { Length: > CheckedSortLength }
                ? JsDefaultSort.Sort(engine, (JsArray)from.Call(engine.Intrinsics.Array, [self]))
                : toSorted.Call(self, args), 1, PropertyFlag.Configurable);
        arrayPrototype.FastSetProperty("toSorted", new PropertyDescriptor(checkedToSorted, PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));

        var json = (ObjectInstance)engine.GetValue("JSON");
        WrapArguments(engine, json, "stringify", (_, args) => args.At(1) switch
        {
            // The replacer is called for every value serialized: the one place to check the limits inside stringify.
            Function replacer => [args.At(0), Ticking(engine, replacer), args.At(2)],
            // A property list (an array) is the one replacer that cannot be chained; anything else is ignored by stringify.
            { } replacer when replacer.IsArray() => args,
            _ => [args.At(0), CheckedIdentity(engine, memoryLimitBytes), args.At(2)],
        });

        var stringPrototype = (ObjectInstance)engine.GetValue("String").AsObject().Get("prototype");
        foreach (string name in (ReadOnlySpan<string>)["replace", "replaceAll"])
        {
            bool all = name == "replaceAll";
            WrapArguments(engine, stringPrototype, name, (self, args) =>
            {
                if (args.At(1) is Function replacer)
                {
                    return [args.At(0), Ticking(engine, replacer)];
                }

                if (self is JsString text && args.At(1) is JsString replacement)
                {
                    EnsureReplacementFits(engine, text.ToString(), args.At(0), replacement.ToString(), all, memoryLimitBytes);
                }

                return args;
            });
        }

        var iterate = (Function)stringPrototype.Get(GlobalSymbolRegistry.Iterator);
        var checkedIterate = new ClrFunction(engine, "[Symbol.iterator]", (self, args) =>
            self is JsString { Length: > CheckedIterationChars } text ? CheckedStringIterator(engine, text.ToString()) : iterate.Call(self, args),
            0, PropertyFlag.Configurable);
        stringPrototype.FastSetProperty(GlobalSymbolRegistry.Iterator, new PropertyDescriptor(checkedIterate, PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));
    }

    /// <summary>An iterator over the code points of <paramref name="text"/>, as <c>String.prototype[Symbol.iterator]</c>'s, that checks the limits every <see cref="CheckEvery"/> steps.</summary>
    private static JsObject CheckedStringIterator(Engine engine, string text)
    {
        int position = 0;
        var iterator = new JsObject(engine);
        iterator.FastSetDataProperty("next", new ClrFunction(engine, "next", (_, _) =>
        {
            var result = new JsObject(engine);
            if (position >= text.Length)
            {
                result.FastSetDataProperty("value", JsValue.Undefined);
                result.FastSetDataProperty("done", JsBoolean.True);
                return result;
            }

            if ((position & (CheckEvery - 1)) == 0)
            {
                engine.Constraints.Check();
            }

            int width = char.IsHighSurrogate(text[position]) && position + 1 < text.Length && char.IsLowSurrogate(text[position + 1]) ? 2 : 1;
            result.FastSetDataProperty("value", new JsString(text.Substring(position, width)));
            result.FastSetDataProperty("done", JsBoolean.False);
            position += width;
            return result;
        }));
        iterator.FastSetProperty(GlobalSymbolRegistry.Iterator, new PropertyDescriptor(
            new ClrFunction(engine, "[Symbol.iterator]", (self, _) => self), PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));
        return iterator;
    }

    /// <summary>
    /// A <c>JSON.stringify</c> replacer that changes nothing and checks the limits every <see cref="CheckEvery"/> values;
    /// a long string whose quoted text would be larger than <paramref name="memoryLimitBytes"/> is refused (a control
    /// character takes six characters: <c>\u0000</c>).
    /// </summary>
    internal static ClrFunction CheckedIdentity(Engine engine, long memoryLimitBytes = long.MaxValue) =>
        Ticking(engine, new ClrFunction(engine, "replacer", (_, args) =>
        {
            if (args.At(1) is JsString { Length: > JsExpansionGuards.ChunkChars } text)
            {
                EnsureJsonFits(engine, text.ToString(), memoryLimitBytes);
            }

            return args.At(1);
        }));

    private const string JsonTooLarge = "JSON.stringify would build";

    /// <summary>Whether <paramref name="error"/> is the refusal of a string too large to quote (not a failure of the value).</summary>
    internal static bool IsJsonTooLarge(JavaScriptException error) => error.Message.StartsWith(JsonTooLarge, StringComparison.Ordinal);

    private static void EnsureJsonFits(Engine engine, string text, long memoryLimitBytes)
    {
        long limitChars = memoryLimitBytes / sizeof(char);
        if (text.Length * 6L + 2 <= limitChars)
        {
            return;
        }

        long size = 2;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            size += c switch
            {
                '"' or '\\' or '\b' or '\f' or '\n' or '\r' or '\t' => 2,
                < ' ' => 6,
                _ when char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) => 1,
                _ when char.IsSurrogate(c) && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(text[i - 1])) => 6,
                _ => 1,
            };
        }

        if (size > limitChars)
        {
            throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
                $"{JsonTooLarge} a string of {size:N0} characters, more than the sandbox's memory limit ({JsLimitExceededException.FormatBytes(memoryLimitBytes)})."));
        }
    }

    /// <summary>A function that calls <paramref name="inner"/> and checks the limits every <see cref="CheckEvery"/> calls.</summary>
    internal static ClrFunction Ticking(Engine engine, Function inner)
    {
        int calls = 0;
        return new ClrFunction(engine, "checked", (self, args) =>
        {
            if (++calls % CheckEvery == 0)
            {
                engine.Constraints.Check();
            }

            return inner.Call(self, args);
        }, 2, PropertyFlag.Configurable);
    }

    /// <summary>
    /// Throws a <c>RangeError</c> when replacing would build a string of more bytes than the memory limit. Cheap when even
    /// the worst case fits (a replacement at every position); otherwise counts the matches first.
    /// </summary>
    private static void EnsureReplacementFits(Engine engine, string text, JsValue pattern, string replacement, bool all, long memoryLimitBytes)
    {
        long limitChars = memoryLimitBytes / sizeof(char);

        // A $-pattern copies at most the match ($&, $1…) or the text around it ($`, $'): bound each by the text.
        int references = replacement.AsSpan().Count('$');
        long perMatchBound = replacement.Length + ((long)references * text.Length);
        if (text.Length + ((text.Length + 1L) * perMatchBound) <= limitChars / 4)
        {
            return;
        }

        bool global = all;
        Regex? regex = null;
        if (pattern is JsRegExp expression)
        {
            regex = expression.Value;
            global = expression.Global;
            if (regex is null)
            {
                return;
            }
        }
        else if (pattern is ObjectInstance)
        {
            // Another object with its own Symbol.replace: nothing to count here.
            return;
        }

        bool wholeText = replacement.Contains("$`", StringComparison.Ordinal) || replacement.Contains("$'", StringComparison.Ordinal);
        long size = text.Length;
        int count = 0;
        void Add(int matchLength)
        {
            size += replacement.Length - matchLength + ((long)references * (wholeText ? text.Length : matchLength));
            if (size > limitChars)
            {
                throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
                    $"{(all ? "replaceAll" : "replace")} would build a string of more than {limitChars:N0} characters ({count:N0} matches so far), more than the sandbox's memory limit ({JsLimitExceededException.FormatBytes(memoryLimitBytes)})."));
            }

            if (++count % CheckEvery == 0)
            {
                engine.Constraints.Check();
            }
        }

        try
        {
            if (regex is not null)
            {
                foreach (var match in regex.EnumerateMatches(text))
                {
                    Add(match.Length);
                    if (!global)
                    {
                        break;
                    }
                }

                return;
            }

            string search = TypeConverter.ToString(pattern);
            for (int at = text.IndexOf(search, StringComparison.Ordinal); at >= 0; at = text.IndexOf(search, at + Math.Max(search.Length, 1), StringComparison.Ordinal))
            {
                Add(search.Length);
                if (!global || at >= text.Length)
                {
                    break;
                }
            }
        }
        catch (RegexMatchTimeoutException)
        {
            throw JsErrors.Range(engine, "replace: the regular expression took too long on this text.");
        }
    }

    /// <summary>Replaces a built-in method with one that passes the arguments <paramref name="rewrite"/> returns to the original, keeping its name and length.</summary>
    private static void WrapArguments(Engine engine, ObjectInstance target, string name, Func<JsValue, JsValue[], JsValue[]> rewrite)
    {
        var original = (Function)target.Get(name);
        int length = (int)TypeConverter.ToInteger(original.Get("length"));
        var wrapper = new ClrFunction(engine, name, (self, args) => original.Call(self, rewrite(self, args)), length, PropertyFlag.Configurable);
        target.FastSetProperty(name, new PropertyDescriptor(wrapper, PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));
    }
}
