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

    /// <summary>Wraps <c>JSON.stringify</c> and <c>Array.prototype.join</c>/<c>toString</c>/<c>toLocaleString</c>.</summary>
    public static void Install(Engine engine)
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
    /// </summary>
    public static string? TryJson(Engine engine, JsValue value)
    {
        EnsureShallow(engine, value);
        try
        {
            var json = new JsonSerializer(engine).Serialize(value, JsValue.Undefined, JsValue.Undefined);
            return json.IsString() ? json.AsString() : null;
        }
        catch (JavaScriptException)
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
    private static void Wrap(Engine engine, ObjectInstance target, string name, Action<JsValue, JsValue[]> before)
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
