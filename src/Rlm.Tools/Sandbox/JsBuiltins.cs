using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Jint;
using Jint.Native;
using Jint.Native.Array;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Changes to Jint 2's built-ins that the sandbox needs: refused dynamic code, a linear and bounded <c>join</c>,
/// regular expressions that time out, and a nesting bound on <c>JSON.parse</c>.
/// </summary>
internal static class JsBuiltins
{
    /// <summary>Deepest nesting <c>JSON.parse</c> accepts (Jint 2 parses JSON recursively; a stack overflow ends the process).</summary>
    public const int MaxJsonDepth = 1_000;

    private const int CheckEvery = 4_096;

    // Longest .NET string, in characters.
    private const long MaxStringChars = 0x3FFFFFDF;

    // Below this length a join just reads every index; above it, arrays that are mostly holes take the fast path.
    private const uint SparseThreshold = 4_096;

    public static void Install(Engine engine, Func<JsRun?> currentRun, JsLimits limits)
    {
        RefuseDynamicCode(engine);
        ReplaceJoin(engine, currentRun, limits);
        BoundRegExps(engine, limits);
        BoundJsonParse(engine);
    }

    public static JsValue Function(Engine engine, string name, int length, Func<JsValue, JsValue[], JsValue> body)
    {
        var function = new ClrFunctionInstance(engine, body, length);
        function.FastAddProperty("name", new JsValue(name), false, false, true);
        return new JsValue(function);
    }

    /// <summary>Defines a writable, configurable, non-enumerable property (as built-ins are).</summary>
    public static void Define(ObjectInstance target, string name, JsValue value) =>
        target.FastSetProperty(name, new PropertyDescriptor(value, true, false, true));

    /// <summary>
    /// Code compiled at run time (<c>eval</c>, <c>new Function</c>) would run without the instrumentation tick, so it
    /// could not be stopped for memory or cancellation: both throw instead. <c>instanceof Function</c> still works.
    /// </summary>
    private static void RefuseDynamicCode(Engine engine)
    {
        Define(engine.Global, "eval", Function(engine, "eval", 1, (_, _) =>
            throw new JavaScriptException(engine.EvalError, "eval is not available in exec_js; write the code directly.")));

        var function = new RefusedConstructor(engine, "the Function constructor is not available in exec_js; use a function expression.");
        var prototype = engine.Function.PrototypeObject;
        function.FastAddProperty("prototype", new JsValue(prototype), false, false, false);
        Define(prototype, "constructor", new JsValue(function));
        Define(engine.Global, "Function", new JsValue(function));
    }

    /// <summary>
    /// Jint 2's <c>Array.prototype.join</c> (and so <c>toString</c> and <c>String(array)</c>) concatenates strings
    /// pairwise: joining 30,000 lines takes over half a minute and allocates tens of gigabytes. This one builds the
    /// text once, refuses a result larger than the memory limit up front (<c>new Array(1e9).join('x')</c>), checks the
    /// limits while it runs, and joins a cyclic array's repeat as empty text (as browsers do) instead of recursing forever.
    /// </summary>
    private static void ReplaceJoin(Engine engine, Func<JsRun?> currentRun, JsLimits limits)
    {
        var joining = new HashSet<ObjectInstance>(ReferenceEqualityComparer.Instance);
        long maxChars = Math.Min(limits.MemoryLimitBytes / sizeof(char), MaxStringChars);

        var join = Function(engine, "join", 1, (thisObject, args) =>
        {
            var array = TypeConverter.ToObject(engine, thisObject);
            uint length = TypeConverter.ToUint32(array.Get("length"));
            var separatorArgument = Arguments.At(args, 0);
            string separator = separatorArgument.IsUndefined() ? "," : TypeConverter.ToString(separatorArgument);
            if (length == 0 || !joining.Add(array))
            {
                return new JsValue("");
            }

            try
            {
                if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
                {
                    throw JsLimitExceededException.Recursion(limits);
                }

                if ((length - 1L) * separator.Length > maxChars)
                {
                    throw JsLimitExceededException.Memory(limits);
                }

                if (length >= SparseThreshold && TryJoinSparse(engine, array, length, separator, maxChars, currentRun, limits) is { } sparse)
                {
                    return new JsValue(sparse);
                }

                var text = new StringBuilder();
                for (uint i = 0; i < length; i++)
                {
                    if (i > 0)
                    {
                        text.Append(separator);
                    }

                    var element = array.Get(i.ToString(CultureInfo.InvariantCulture));
                    if (!element.IsUndefined() && !element.IsNull())
                    {
                        text.Append(TypeConverter.ToString(element));
                    }

                    if (i % CheckEvery == CheckEvery - 1 || text.Length > maxChars)
                    {
                        if (text.Length > maxChars)
                        {
                            throw JsLimitExceededException.Memory(limits);
                        }

                        currentRun()?.Tick();
                    }
                }

                return new JsValue(text.ToString());
            }
            finally
            {
                joining.Remove(array);
            }
        });

        Define(engine.Array.PrototypeObject, "join", join);
    }

    /// <summary>
    /// Jint 2 matches with .NET regexes that have no timeout, inside one built-in call the sandbox's checks cannot
    /// interrupt: a catastrophic pattern would spin for ever. Every regex gets a match timeout of the call's time
    /// limit before it is used (<c>exec</c>, <c>test</c>, and <c>match</c>, <c>search</c>, <c>replace</c>,
    /// <c>split</c> of strings); a timeout ends the script with the time-limit error.
    /// </summary>
    private static void BoundRegExps(Engine engine, JsLimits limits)
    {
        var timeout = limits.Timeout < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1)
            : limits.Timeout > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1)
            : limits.Timeout;

        void Arm(JsValue value)
        {
            if (value.IsRegExp() && value.AsRegExp() is { } regExp && regExp.Value.MatchTimeout == Regex.InfiniteMatchTimeout)
            {
                regExp.Value = new Regex(regExp.Value.ToString(), regExp.Value.Options, timeout);
            }
        }

        var regExpPrototype = engine.RegExp.PrototypeObject;
        Wrap(engine, regExpPrototype, "exec", (self, _) => Arm(self));
        Wrap(engine, regExpPrototype, "test", (self, _) => Arm(self));

        var stringPrototype = engine.String.PrototypeObject;
        foreach (string name in new[] { "match", "search" })
        {
            // A string pattern becomes a regex inside the built-in; make it here, armed.
            Wrap(engine, stringPrototype, name, (_, args) =>
            {
                if (args.Length > 0 && !args[0].IsRegExp() && !args[0].IsUndefined())
                {
                    args[0] = new JsValue(engine.RegExp.Construct([args[0]]));
                }

                Arm(Arguments.At(args, 0));
            });
        }

        foreach (string name in new[] { "replace", "split" })
        {
            Wrap(engine, stringPrototype, name, (_, args) => Arm(Arguments.At(args, 0)));
        }
    }

    private static void BoundJsonParse(Engine engine)
    {
        Wrap(engine, engine.Json, "parse", (_, args) =>
        {
            if (args.Length > 0)
            {
                args[0] = new JsValue(TypeConverter.ToString(args[0]));
                if (JsonNesting(args[0].AsString()) > MaxJsonDepth)
                {
                    throw new JavaScriptException(engine.SyntaxError, $"JSON.parse: the text nests deeper than {MaxJsonDepth:N0} levels.");
                }
            }
        });
    }

    /// <summary>Deepest nesting of <c>[</c> and <c>{</c> outside string literals (an upper bound for invalid JSON).</summary>
    private static int JsonNesting(string text)
    {
        int depth = 0, max = 0;
        bool inString = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (c is '[' or '{')
            {
                max = Math.Max(max, ++depth);
            }
            else if (c is ']' or '}')
            {
                depth--;
            }
        }

        return max;
    }

    /// <summary>
    /// Replaces a built-in method with one that runs <paramref name="before"/> on a copy of the arguments (which it may
    /// rewrite; Jint caches the argument arrays of calls with literal arguments) and then the original.
    /// </summary>
    private static void Wrap(Engine engine, ObjectInstance target, string name, Action<JsValue, JsValue[]> before)
    {
        var original = target.Get(name);
        int length = (int)TypeConverter.ToInteger(original.AsObject().Get("length"));
        Define(target, name, Function(engine, name, length, (self, args) =>
        {
            var copy = (JsValue[])args.Clone();
            before(self, copy);
            return original.Invoke(self, copy);
        }));
    }

    /// <summary>
    /// Joins an array that is mostly holes (<c>new Array(100000).join('x')</c>, the ES5 idiom for repeating text) from
    /// its own elements alone, instead of reading every missing index through the prototype chain. Gives
    /// <see langword="null"/> when that would not be equivalent (not an array, mostly full, or a prototype holds indices).
    /// </summary>
    private static string? TryJoinSparse(Engine engine, ObjectInstance array, uint length, string separator, long maxChars, Func<JsRun?> currentRun, JsLimits limits)
    {
        if (array is not ArrayInstance || HasIndexProperties(engine.Array.PrototypeObject) || HasIndexProperties(engine.Object.PrototypeObject))
        {
            return null;
        }

        var present = new List<(uint Index, string Key)>();
        bool sorted = true;
        foreach (var property in array.GetOwnProperties())
        {
            if (TryParseIndex(property.Key, out uint index) && index < length)
            {
                sorted &= present.Count == 0 || present[^1].Index < index;
                present.Add((index, property.Key));
            }
        }

        if (present.Count > length / 2)
        {
            return null;
        }

        if (!sorted)
        {
            present.Sort((a, b) => a.Index.CompareTo(b.Index));
        }

        var text = new StringBuilder();
        long separators = 0;
        void Separators(long upTo)
        {
            if (separator.Length == 1)
            {
                text.Append(separator[0], checked((int)(upTo - separators)));
            }
            else if (separator.Length > 0)
            {
                for (long n = separators; n < upTo; n++)
                {
                    text.Append(separator);
                    if (n % CheckEvery == 0)
                    {
                        currentRun()?.Tick();
                    }
                }
            }

            separators = upTo;
        }

        for (int i = 0; i < present.Count; i++)
        {
            Separators(present[i].Index);
            var element = array.Get(present[i].Key);
            if (!element.IsUndefined() && !element.IsNull())
            {
                text.Append(TypeConverter.ToString(element));
            }

            if (text.Length > maxChars)
            {
                throw JsLimitExceededException.Memory(limits);
            }

            if (i % CheckEvery == CheckEvery - 1)
            {
                currentRun()?.Tick();
            }
        }

        Separators(length - 1L);
        return text.ToString();
    }

    private static bool HasIndexProperties(ObjectInstance instance)
    {
        foreach (var property in instance.GetOwnProperties())
        {
            if (TryParseIndex(property.Key, out _))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="key"/> is an array index: the canonical decimal form of a number below 2^32 − 1.</summary>
    private static bool TryParseIndex(string key, out uint index)
    {
        index = 0;
        if (key.Length == 0 || key.Length > 10 || (key.Length > 1 && key[0] == '0'))
        {
            return false;
        }

        foreach (char c in key)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return uint.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out index) && index != uint.MaxValue;
    }

    /// <summary>A global that throws a clear error whether called or constructed (a plain host function cannot be constructed).</summary>
    private sealed class RefusedConstructor : FunctionInstance, IConstructor
    {
        private readonly string _message;

        public RefusedConstructor(Engine engine, string message)
            : base(engine, null, null, false)
        {
            _message = message;
            Prototype = engine.Function.PrototypeObject;
            FastAddProperty("length", new JsValue(1), false, false, false);
            FastAddProperty("name", new JsValue("Function"), false, false, true);
            Extensible = true;
        }

        public override JsValue Call(JsValue thisObject, JsValue[] arguments) => throw new JavaScriptException(Engine.EvalError, _message);

        public ObjectInstance Construct(JsValue[] arguments) => throw new JavaScriptException(Engine.EvalError, _message);
    }
}
