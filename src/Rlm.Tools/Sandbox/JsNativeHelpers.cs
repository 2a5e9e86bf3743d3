using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Rlm.Tools.Context;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Native (C#) helpers for the hot operations of typical model programs, installed as sandbox globals: counting lines,
/// matches and groups of regular-expression matches over the whole context, which plain JavaScript on Jint runs 1–6×
/// slower than CPython and the helpers 5–20× faster (measured in <c>benchmarks/Rlm.Tools.JsBench</c>).
/// </summary>
/// <remarks>
/// <para><b>Globals.</b> Each works line by line: a string <c>text</c> is split on <c>\n</c> as <c>text.split('\n')</c>
/// does (without building the array), an array of strings is taken element by element, and a pattern is matched within
/// one line at a time (<c>^</c> and <c>$</c> match at the line's ends; no match spans a line break).</para>
/// <list type="bullet">
/// <item><c>count_lines(text, pattern?)</c> → the number of lines that contain a match of <c>pattern</c>; without a
/// pattern, the number of lines (<c>text.split('\n').length</c>).</item>
/// <item><c>count_matches(text, pattern)</c> → the number of matches of <c>pattern</c>, as <c>matchAll</c> finds them in
/// each line.</item>
/// <item><c>count_by(text, pattern, {group, lowercase, top})</c> → <c>[[key, count], …]</c>, most frequent first (ties
/// by key in code-unit order). A key is capture group <c>group</c> (a number or a name; by default 1 when the pattern
/// has a group, else 0, the whole match) of every match, lowercased when <c>lowercase</c> is set; matches where the
/// group did not take part are skipped; only the first <c>top</c> pairs are returned.</item>
/// </list>
/// <para><c>pattern</c> is a <c>RegExp</c> (its flags <c>i</c>, <c>m</c> and <c>s</c> apply as in JavaScript; <c>g</c> and
/// <c>y</c> make no difference: every match counts) or a string of regular-expression source without flags. Patterns run on .NET's engine as Jint
/// adapts them (in the rare case-insensitive corner where Jint would switch engines, .NET's case folding decides); one
/// that needs Jint's own engine (the <c>u</c> or <c>v</c> flag, or a feature .NET lacks) is refused with a
/// TypeError.</para>
/// <para><b>Limits.</b> The loops call the engine's constraints (script time, cancellation, session memory) every
/// <see cref="CheckInterval"/> lines, elements or matches and at least every <see cref="CheckPeriod"/>; each match runs under a regular-expression timeout of at most
/// one second (the engine's <c>RegexTimeout</c>, which Jint gives the adapted pattern, when shorter), and a timeout ends
/// the script as Jint's own regular expressions do; <c>count_by</c> returns at most <see cref="MaxKeys"/> pairs and
/// refuses more without <c>top</c>. Bad arguments throw a TypeError or RangeError that says what to pass.</para>
/// </remarks>
internal static class JsNativeHelpers
{
    /// <summary>Most <c>[key, count]</c> pairs <c>count_by</c> returns.</summary>
    public const int MaxKeys = 100_000;

    /// <summary>Most lines, elements or matches between two constraint checks.</summary>
    internal const int CheckInterval = 4_096;

    /// <summary>Longest stretch of work between two constraint checks (plus at most one match, bounded by its timeout).</summary>
    internal static readonly TimeSpan CheckPeriod = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan s_maxRegexTimeout = TimeSpan.FromSeconds(1);

    // Copies of adapted patterns whose timeout was longer than the helpers allow, made once per pattern.
    private static readonly ConditionalWeakTable<Regex, Regex> s_timed = [];

    /// <summary>Installs the helpers into <paramref name="engine"/>.</summary>
    public static void Install(Engine engine)
    {
        void Global(string name, int length, Func<JsValue, JsValue[], JsValue> body) =>
            engine.Global.FastSetProperty(name, new PropertyDescriptor(
                new ClrFunction(engine, name, body, length, PropertyFlag.Configurable),
                PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));

        Global("count_lines", 2, (_, args) => CountLines(engine, args));
        Global("count_matches", 2, (_, args) => CountMatches(engine, args));
        Global("count_by", 3, (_, args) => CountBy(engine, args));
    }

    private static JsValue CountLines(Engine engine, JsValue[] args)
    {
        const string Function = "count_lines";
        var pattern = args.At(1);
        var regex = pattern.IsUndefined() || pattern.IsNull() ? null : ToRegex(engine, pattern, Function);
        long count = 0;
        ForEachLine(engine, args.At(0), Function, (subject, start, length) =>
        {
            if (regex is null || regex.IsMatch(subject.AsSpan(start, length)))
            {
                count++;
            }
        });
        return count;
    }

    private static JsValue CountMatches(Engine engine, JsValue[] args)
    {
        const string Function = "count_matches";
        var regex = ToRegex(engine, RequiredPattern(engine, args.At(1), Function, "count_matches(context, /error/i)"), Function);
        long count = 0;
        var checker = new Checker(engine);
        ForEachLine(engine, args.At(0), Function, (subject, start, length) =>
        {
            foreach (var _ in regex.EnumerateMatches(subject.AsSpan(start, length)))
            {
                count++;
                checker.Tick();
            }
        });
        return count;
    }

    private static JsValue CountBy(Engine engine, JsValue[] args)
    {
        const string Function = "count_by";
        var regex = ToRegex(engine, RequiredPattern(engine, args.At(1), Function, "count_by(context, /urgency=(\\w+)/, { top: 10 })"), Function);
        var (group, lowercase, top) = CountByOptions(engine, regex, args.At(2));

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        char[] buffer = new char[256];
        var checker = new Checker(engine);

        void Add(ReadOnlySpan<char> key)
        {
            if (lowercase)
            {
                if (buffer.Length < key.Length)
                {
                    buffer = new char[Math.Max(key.Length, buffer.Length * 2)];
                }

                int length = key.ToLowerInvariant(buffer);
                key = buffer.AsSpan(0, length);
            }

            CollectionsMarshal.GetValueRefOrAddDefault(lookup, key, out _)++;
            checker.Tick();
        }

        ForEachLine(engine, args.At(0), Function, (subject, start, length) =>
        {
            if (group == 0)
            {
                foreach (var match in regex.EnumerateMatches(subject.AsSpan(start, length)))
                {
                    Add(subject.AsSpan(start + match.Index, match.Length));
                }

                return;
            }

            // Match(input, beginning, length) treats the line as the whole input (^ and $ at its ends); indices stay the input's.
            for (var match = regex.Match(subject, start, length); match.Success; match = match.NextMatch())
            {
                var captured = match.Groups[group];
                if (captured.Success)
                {
                    Add(subject.AsSpan(captured.Index, captured.Length));
                }
                else
                {
                    checker.Tick();
                }
            }
        });

        if (top is null && counts.Count > MaxKeys)
        {
            throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
                $"{Function}: {counts.Count:N0} distinct keys, more than one call returns ({MaxKeys:N0}); pass {{ top: N }} to keep the N most frequent."));
        }

        engine.Constraints.Check();
        var pairs = counts.ToArray();
        Array.Sort(pairs, static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        int take = Math.Min(pairs.Length, top ?? MaxKeys);
        var items = new JsValue[take];
        for (int i = 0; i < take; i++)
        {
            items[i] = new JsArray(engine, [new JsString(pairs[i].Key), JsNumber.Create(pairs[i].Value)]);
        }

        return new JsArray(engine, items);
    }

    private static (int Group, bool Lowercase, int? Top) CountByOptions(Engine engine, Regex regex, JsValue options)
    {
        const string Function = "count_by";
        // Jint wraps each named group in a numbered one, so the numbered groups are JavaScript's, in order.
        int maxGroup = regex.GetGroupNames().Count(name => int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out _)) - 1;
        int group = maxGroup >= 1 ? 1 : 0;
        bool lowercase = false;
        int? top = null;
        if (options.IsUndefined() || options.IsNull())
        {
            return (group, lowercase, top);
        }

        if (options is not ObjectInstance settings)
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError,
                $"{Function}: the third argument is an options object, e.g. {{ group: 1, lowercase: true, top: 10 }}.");
        }

        var groupValue = settings.Get("group");
        if (groupValue.IsString())
        {
            string name = groupValue.AsString();
            group = regex.GroupNumberFromName(name);
            if (group < 0 || name.Length == 0 || char.IsAsciiDigit(name[0]))
            {
                throw JsErrors.Range(engine, $"{Function}: the pattern has no group named '{TextLimits.Line(name, 64)}'; name one with (?<{(name.Length > 0 && !char.IsAsciiDigit(name[0]) ? TextLimits.Line(name, 64) : "name")}>...) or pass a group number.");
            }
        }
        else if (!groupValue.IsUndefined())
        {
            double number = groupValue.IsNumber() ? groupValue.AsNumber() : double.NaN;
            if (double.IsNaN(number) || number != Math.Floor(number) || number < 0 || number > maxGroup)
            {
                throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
                    $"{Function}: group must be a capture group number from 0 (the whole match) to {maxGroup}, or a group name."));
            }

            group = (int)number;
        }

        lowercase = TypeConverter.ToBoolean(settings.Get("lowercase"));
        var topValue = settings.Get("top");
        if (!topValue.IsUndefined() && !topValue.IsNull())
        {
            double number = topValue.IsNumber() ? topValue.AsNumber() : double.NaN;
            if (double.IsNaN(number) || number < 1 || number > MaxKeys)
            {
                throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture, $"{Function}: top must be a number from 1 to {MaxKeys:N0}."));
            }

            top = (int)number;
        }

        return (group, lowercase, top);
    }

    private static JsValue RequiredPattern(Engine engine, JsValue pattern, string function, string example) =>
        pattern.IsUndefined() || pattern.IsNull()
            ? throw new JavaScriptException(engine.Intrinsics.TypeError, $"{function}: pass a pattern (a RegExp or a string of regular-expression source), e.g. {example}.")
            : pattern;

    /// <summary>The .NET regular expression behind a JavaScript pattern, with a match timeout of at most one second.</summary>
    private static Regex ToRegex(Engine engine, JsValue pattern, string function)
    {
        JsRegExp regExp;
        if (pattern is JsRegExp given)
        {
            regExp = given;
        }
        else if (pattern.IsString())
        {
            regExp = engine.Construct("RegExp", pattern) as JsRegExp
                ?? throw new JavaScriptException(engine.Intrinsics.TypeError, $"{function}: the pattern did not compile to a RegExp.");
        }
        else
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError,
                $"{function}: the pattern must be a RegExp (e.g. /error|fail/i) or a string of regular-expression source; got {Describe(pattern)}.");
        }

        // Jint adapts a pattern to .NET when it can (ParseResult.Regex); otherwise Value is a placeholder and its own engine runs it.
        if (regExp.ParseResult.Regex is null || regExp.Value is not { } regex)
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError,
                $"{function}: /{TextLimits.Line(regExp.Source, 80)}/{regExp.Flags} needs JavaScript's own regular-expression engine (the u or v flag, or a feature .NET lacks), which the native helpers do not run; drop the flag or use plain JavaScript.");
        }

        // Jint gives the adapted Regex the engine's RegexTimeout (the sandbox's is at most 1 s); a longer one is capped.
        if (regex.MatchTimeout != Regex.InfiniteMatchTimeout && regex.MatchTimeout <= s_maxRegexTimeout)
        {
            return regex;
        }

        if (!s_timed.TryGetValue(regex, out var timed))
        {
            timed = new Regex(regex.ToString(), regex.Options, s_maxRegexTimeout);
            s_timed.AddOrUpdate(regex, timed);
        }

        return timed;
    }

    /// <summary>
    /// Calls <paramref name="body"/> on each line of a string (split on <c>\n</c>, as <c>split('\n')</c> does) or each
    /// element of an array of strings, checking the engine's constraints every <see cref="CheckInterval"/> lines.
    /// </summary>
    private static void ForEachLine(Engine engine, JsValue text, string function, Action<string, int, int> body)
    {
        var checker = new Checker(engine);
        if (text.IsString())
        {
            string subject = text.AsString();
            int start = 0;
            while (true)
            {
                int end = subject.IndexOf('\n', start);
                body(subject, start, (end < 0 ? subject.Length : end) - start);
                checker.Tick();

                if (end < 0)
                {
                    return;
                }

                start = end + 1;
            }
        }

        if (text is not JsArray array)
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError,
                $"{function}: the first argument must be a string (e.g. context) or an array of strings; got {Describe(text)}.");
        }

        uint length = array.Length;
        for (uint i = 0; i < length; i++)
        {
            var element = array.Get(i);
            if (!element.IsString())
            {
                throw new JavaScriptException(engine.Intrinsics.TypeError,
                    string.Create(CultureInfo.InvariantCulture, $"{function}: element {i} of the array is {(element.IsUndefined() ? "undefined (a hole?)" : Describe(element))}, not a string."));
            }

            string line = element.AsString();
            body(line, 0, line.Length);
            checker.Tick();
        }
    }

    private static string Describe(JsValue value) =>
        value.IsNull() ? "null" : value.IsUndefined() ? "undefined" : value is JsArray ? "an array" : "a " + value.Type.ToString().ToLowerInvariant();

    /// <summary>
    /// Checks the engine's constraints every <see cref="CheckInterval"/> ticks (lines, elements, matches) or
    /// <see cref="CheckPeriod"/> of work, whichever comes first: a line can cost up to a regular-expression timeout, so
    /// counting alone would leave thousands of slow lines between checks.
    /// </summary>
    private sealed class Checker(Engine engine)
    {
        // Environment.TickCount64 (a coarse monotonic clock) costs a fifth of Stopwatch.GetTimestamp on a VM's kvm-clock.
        private static readonly long s_period = (long)CheckPeriod.TotalMilliseconds;
        private int _ticks;
        private long _next = Environment.TickCount64 + s_period;

        public void Tick()
        {
            if (++_ticks == CheckInterval || Environment.TickCount64 >= _next)
            {
                _ticks = 0;
                _next = Environment.TickCount64 + s_period;
                engine.Constraints.Check();
            }
        }
    }
}
