using System.Runtime.CompilerServices;
using Jint;
using Jint.Native;
using Jint.Native.Error;
using Jint.Native.Function;
using Jint.Native.Json;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Guards for the built-ins that recurse in C# without entering a JavaScript function, where Jint 4's
/// <c>StackOverflowGuard</c> (which probes the stack on every entry into a function) never looks: measured on Jint 4.18,
/// <c>JSON.stringify</c> of a structure nested a million deep and <c>String(array)</c> of nested arrays overflow the
/// native stack and end the process. Everything else the hostile tests try (deep prototype chains, nested source,
/// deep <c>JSON.parse</c>, <c>flat(Infinity)</c>, recursion through getters, coercions and Proxy traps) Jint 4 stops by
/// itself with a catchable error.
/// </summary>
internal static class JsGuards
{
    /// <summary>Deepest nesting of objects and arrays that <c>JSON.stringify</c>, printing and the completion value accept.</summary>
    public const int MaxStructureDepth = 10_000;

    /// <summary>Longest BigInt text <c>BigInt(string)</c> parses (digits): .NET's parse is quadratic, 10 million digits take 18 s.</summary>
    public const int MaxBigIntDigits = 100_000;

    /// <summary>
    /// Wraps <c>JSON.stringify</c>, <c>Array.prototype.join</c>/<c>toString</c>/<c>toLocaleString</c>, the allocating
    /// string methods (<c>repeat</c>, <c>padStart</c>, <c>padEnd</c>), <c>ArrayBuffer</c> and the typed-array
    /// constructors (one allocation larger than <paramref name="memoryLimitBytes"/> is refused before it is made, so it
    /// cannot take the host's memory in one built-in step), and <c>BigInt(string)</c>.
    /// </summary>
    public static void Install(Engine engine, long memoryLimitBytes, JsBigIntGuard bigInts)
    {
        var json = (ObjectInstance)engine.GetValue("JSON");
        Wrap(engine, json, "stringify", (_, args) =>
        {
            if (args.Length > 0)
            {
                EnsureShallow(engine, args[0]);
            }
        });

        // join -> ToString(element) -> Array.prototype.toString -> join ...: each level passes through a wrapper, which
        // probes the stack. A cyclic array is Jint's own business (it joins the repeat as empty text).
        var arrayPrototype = (ObjectInstance)engine.Intrinsics.Array.Get("prototype");
        foreach (string name in (ReadOnlySpan<string>)["join", "toString", "toLocaleString"])
        {
            Wrap(engine, arrayPrototype, name, static (_, _) => EnsureStack());
        }

        void CheckBytes(double bytes, string what)
        {
            if (bytes > memoryLimitBytes)
            {
                throw JsErrors.Range(engine,
                    $"{what} would allocate {bytes:N0} bytes, more than the sandbox's memory limit ({JsLimitExceededException.FormatBytes(memoryLimitBytes)}).");
            }
        }

        var stringPrototype = (ObjectInstance)engine.Intrinsics.Object.Engine.GetValue("String").AsObject().Get("prototype");
        Wrap(engine, stringPrototype, "repeat", (self, args) =>
            CheckBytes(TypeConverter.ToString(self).Length * Math.Max(0, TypeConverter.ToNumber(args.At(0))) * sizeof(char), "repeat"));
        foreach (string name in (ReadOnlySpan<string>)["padStart", "padEnd"])
        {
            string method = name;
            Wrap(engine, stringPrototype, name, (_, args) => CheckBytes(Math.Max(0, TypeConverter.ToNumber(args.At(0))) * sizeof(char), method));
        }

        // Constructors keep their identity for instanceof and subclassing through a Proxy with a construct trap.
        engine.SetValue("__rlm_check_bytes", new ClrFunction(engine, "__rlm_check_bytes", (_, args) =>
        {
            CheckBytes(TypeConverter.ToNumber(args.At(0)), TypeConverter.ToString(args.At(1)));
            return JsValue.Undefined;
        }));
        engine.SetValue("__rlm_check_bigint", new ClrFunction(engine, "__rlm_check_bigint", (_, args) =>
        {
            bigInts.EnsureAllowed(engine, TypeConverter.ToString(args.At(1)));
            if (args.At(0) is JsString text && text.Length > MaxBigIntDigits)
            {
                throw JsErrors.Range(engine, $"BigInt: {text.Length:N0} characters is more than the sandbox parses ({MaxBigIntDigits:N0}).");
            }

            return JsValue.Undefined;
        }));
        engine.SetValue("__rlm_check_bigint_size", new ClrFunction(engine, "__rlm_check_bigint_size", (_, args) =>
        {
            if (args.At(0) is JsBigInt)
            {
                JsBigIntGuard.EnsureFits(engine, TypeConverter.ToBigInt(args.At(0)), TypeConverter.ToString(args.At(1)));
            }

            return args.At(0);
        }));
        engine.Execute("""
            (() => {
              const checkBytes = __rlm_check_bytes, checkBigInt = __rlm_check_bigint, checkSize = __rlm_check_bigint_size;
              const size = (a, perElement) => {
                const x = a[0];
                if (typeof x === 'number') return x * perElement;
                if (x !== null && typeof x === 'object' && !(x instanceof ArrayBuffer) && typeof x.length === 'number') return x.length * perElement;
                return 0;
              };
              const guard = (name, perElement) => {
                const C = globalThis[name];
                if (typeof C !== 'function') return;
                globalThis[name] = new Proxy(C, {
                  construct(target, args, newTarget) {
                    if (name.startsWith('Big')) checkBigInt(undefined, 'new ' + name);
                    checkBytes(size(args, perElement), 'new ' + name);
                    return Reflect.construct(target, args, newTarget);
                  },
                });
              };
              guard('ArrayBuffer', 1);
              guard('SharedArrayBuffer', 1);
              for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
                                  'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
                const C = globalThis[name];
                if (typeof C === 'function') guard(name, C.BYTES_PER_ELEMENT);
              }
              const bigInt = new Proxy(BigInt, {
                apply(target, self, args) { checkBigInt(args[0], 'BigInt'); return checkSize(Reflect.apply(target, self, args), 'BigInt(…)'); },
              });
              globalThis.BigInt = bigInt;
              Object.defineProperty(BigInt.prototype, 'constructor', { value: bigInt, writable: true, configurable: true });
              for (const name of ['asIntN', 'asUintN']) {
                const as = BigInt[name];
                Object.defineProperty(BigInt, name, { value: { [name](...args) { checkBigInt(undefined, 'BigInt.' + name); return checkSize(Reflect.apply(as, this, args), 'BigInt.' + name); } }[name], writable: true, configurable: true });
              }
              for (const name of ['getBigInt64', 'getBigUint64']) {
                const get = DataView.prototype[name];
                Object.defineProperty(DataView.prototype, name, { value: { [name](...args) { checkBigInt(undefined, 'DataView.' + name); return Reflect.apply(get, this, args); } }[name], writable: true, configurable: true });
              }
            })();
            delete globalThis.__rlm_check_bytes;
            delete globalThis.__rlm_check_bigint;
            delete globalThis.__rlm_check_bigint_size;
            """);
    }

    /// <summary>Throws a JavaScript <c>RangeError</c> when the script thread's stack is nearly spent.</summary>
    public static void EnsureStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new JsLimitStackException();
        }
    }

    /// <summary>
    /// Serializes <paramref name="value"/> as <c>JSON.stringify</c> would, after checking its nesting: the text, or
    /// <see langword="null"/> when JSON has none (undefined, functions) or it fails (a cycle, a throwing <c>toJSON</c>).
    /// A string whose quoted text would be larger than <paramref name="memoryLimitBytes"/> throws a <c>RangeError</c>.
    /// </summary>
    public static string? TryJson(Engine engine, JsValue value, long memoryLimitBytes)
    {
        EnsureShallow(engine, value);
        try
        {
            var json = new JsonSerializer(engine).Serialize(value, JsBulkGuards.CheckedIdentity(engine, memoryLimitBytes), JsValue.Undefined);
            return json.IsString() ? json.AsString() : null;
        }
        catch (JavaScriptException e) when (!JsBulkGuards.IsJsonTooLarge(e))
        {
            return null;
        }
    }

    /// <summary>
    /// Walks the data properties of <paramref name="value"/> (never calling a getter) without recursion and throws a
    /// <c>RangeError</c> when objects and arrays nest deeper than <see cref="MaxStructureDepth"/>. Each object is visited
    /// once, so cycles end the walk; the cost is one visit per reachable object.
    /// </summary>
    public static void EnsureShallow(Engine engine, JsValue value)
    {
        if (value is not ObjectInstance root || value is Function)
        {
            return;
        }

        var visited = new HashSet<ObjectInstance>(ReferenceEqualityComparer.Instance) { root };
        var stack = new Stack<(ObjectInstance Object, int Depth)>();
        stack.Push((root, 1));
        int visits = 0;
        while (stack.Count > 0)
        {
            var (current, depth) = stack.Pop();
            if (depth > MaxStructureDepth)
            {
                throw JsErrors.Range(engine,
                    $"the value nests objects or arrays deeper than {MaxStructureDepth:N0} levels; it cannot be converted to text.");
            }

            if ((++visits & 0xFFF) == 0)
            {
                engine.Constraints.Check();
            }

            foreach (var property in current.GetOwnProperties())
            {
                if (property.Value is { } descriptor && !descriptor.IsAccessorDescriptor()
                    && descriptor.Value is ObjectInstance child and not Function
                    && visited.Add(child))
                {
                    stack.Push((child, depth + 1));
                }
            }
        }
    }

    /// <summary>
    /// Replaces a built-in method with one that runs <paramref name="before"/> (which may throw) and then the original,
    /// keeping its name and length.
    /// </summary>
    internal static void Wrap(Engine engine, ObjectInstance target, string name, Action<JsValue, JsValue[]> before)
    {
        var original = (Function)target.Get(name);
        int length = (int)TypeConverter.ToInteger(original.Get("length"));
        var wrapper = new ClrFunction(engine, name, (self, args) =>
        {
            before(self, args);
            return original.Call(self, args);
        }, length, PropertyFlag.Configurable);
        target.FastSetProperty(name, new PropertyDescriptor(wrapper, PropertyFlag.NonEnumerable));
    }
}

/// <summary>The script thread's stack is nearly spent (reported like Jint's own "Maximum call stack size exceeded").</summary>
internal sealed class JsLimitStackException() : Exception("Maximum call stack size exceeded");

/// <summary>JavaScript errors of the kinds <see cref="Intrinsics"/> does not expose, built from the engine's own constructors.</summary>
internal static class JsErrors
{
    public static JavaScriptException Range(Engine engine, string message) => Of(engine, "RangeError", message);

    public static ErrorConstructor SyntaxError(Engine engine) => (ErrorConstructor)engine.Intrinsics.Error.Engine.GetValue("SyntaxError");

    private static JavaScriptException Of(Engine engine, string constructor, string message) =>
        new((ErrorConstructor)engine.GetValue(constructor), message);
}
