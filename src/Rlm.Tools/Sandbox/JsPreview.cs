using System.Globalization;
using System.Text;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// The text of a value as a person reads it in <c>exec_js</c> output (<c>print</c>, the completion value, a thrown
/// value): strings as they are, everything else as <c>JSON.stringify</c> would write it, but built within a character
/// budget, so printing a million-element array costs what the model will see, not the whole serialization.
/// </summary>
/// <remarks>
/// JSON rules where JSON has one: <c>toJSON</c> is honoured (when calls are allowed), functions and <c>undefined</c>
/// become <c>null</c> in arrays and are left out of objects, non-finite numbers are <c>null</c>. Where JSON would throw,
/// a preview shows something instead: a cycle is <c>"[Circular]"</c>, a BigInt is <c>123n</c>, nesting past
/// <see cref="JsGuards.MaxStructureDepth"/> is <c>"[…]"</c>. With calls disallowed (describing a thrown value after a
/// limit stopped the script) no script code runs at all: getters show as <c>"[Getter]"</c>, a Proxy as
/// <c>"[Proxy]"</c>, and <c>toJSON</c> is ignored.
/// </remarks>
internal sealed class JsPreview
{
    private readonly Engine _engine;
    private readonly int _maxChars;
    private readonly bool _allowCalls;
    private readonly StringBuilder _text = new();
    private readonly HashSet<ObjectInstance> _open = new(ReferenceEqualityComparer.Instance);
    private int _visits;

    private JsPreview(Engine engine, int maxChars, bool allowCalls)
    {
        _engine = engine;
        _maxChars = Math.Max(16, maxChars);
        _allowCalls = allowCalls;
    }

    /// <summary>
    /// Renders <paramref name="value"/>: <see langword="null"/> for <c>undefined</c>, otherwise at most about
    /// <paramref name="maxChars"/> characters, ending in <c>…</c> when cut.
    /// </summary>
    public static string? Render(Engine engine, JsValue value, int maxChars, bool quoteStrings, bool allowCalls)
    {
        if (value.IsUndefined())
        {
            return null;
        }

        if (value.IsString())
        {
            string s = value.AsString();
            if (!quoteStrings)
            {
                return s; // already in memory: the caller keeps its head and tail
            }
        }

        if (value is ObjectInstance instance && TopLevelText(engine, instance, allowCalls) is { } text)
        {
            return text.Length <= maxChars ? text : string.Concat(text.AsSpan(0, maxChars), "…");
        }

        if (value is JsSymbol)
        {
            return value.ToString();
        }

        if (value is JsNumber number && !quoteStrings)
        {
            return TypeConverter.ToString(number);
        }

        var preview = new JsPreview(engine, maxChars, allowCalls);
        try
        {
            preview.Write(value, depth: 0, inArray: true);
        }
        catch (PreviewFull)
        {
            preview._text.Append('…');
        }

        return preview._text.ToString();
    }

    /// <summary>Functions, errors, regular expressions and promises are shown as their string form, not as JSON.</summary>
    private static string? TopLevelText(Engine engine, ObjectInstance instance, bool allowCalls)
    {
        if (IsProxy(instance))
        {
            return null;
        }

        if (instance is Function function)
        {
            return allowCalls ? SafeToString(function) : $"[Function {DataString(function, "name") ?? "anonymous"}]";
        }

        if (instance is JsError)
        {
            string name = DataString(instance, "name") ?? "Error";
            string message = DataString(instance, "message") ?? "";
            return message.Length == 0 ? name : $"{name}: {message}";
        }

        if (instance is JsRegExp or JsDate || instance.GetType().Name == "JsPromise")
        {
            return allowCalls ? SafeToString(instance) : $"[{instance.GetType().Name[2..]}]";
        }

        return null;
    }

    private void Write(JsValue value, int depth, bool inArray)
    {
        if (_text.Length > _maxChars)
        {
            throw new PreviewFull();
        }

        switch (value)
        {
            case JsString:
                WriteQuoted(value.AsString());
                return;
            case JsNumber number:
                double d = number.AsNumber();
                _text.Append(double.IsFinite(d) ? TypeConverter.ToString(number) : "null");
                return;
            case JsBoolean:
                _text.Append(value.AsBoolean() ? "true" : "false");
                return;
            case JsBigInt:
                _text.Append(value.ToString()).Append('n');
                return;
            case JsSymbol:
                _text.Append(inArray ? "null" : "");
                return;
        }

        if (value.IsNull() || value.IsUndefined() || value is not ObjectInstance instance)
        {
            _text.Append("null");
            return;
        }

        if (instance is Function)
        {
            _text.Append("null");
            return;
        }

        if (IsProxy(instance))
        {
            _text.Append("\"[Proxy]\"");
            return;
        }

        if (depth >= JsGuards.MaxStructureDepth)
        {
            _text.Append("\"[…]\"");
            return;
        }

        if (!_open.Add(instance))
        {
            _text.Append("\"[Circular]\"");
            return;
        }

        try
        {
            if ((++_visits & 0x3FF) == 0)
            {
                JsGuards.EnsureStack();
                if (_allowCalls)
                {
                    _engine.Constraints.Check();
                }
            }

            JsGuards.EnsureStack();
            if (_allowCalls && instance.Get("toJSON") is Function toJson)
            {
                var replaced = toJson.Call(instance, []);
                if (!ReferenceEquals(replaced, instance))
                {
                    _open.Remove(instance);
                    Write(replaced, depth, inArray);
                    return;
                }
            }

            if (instance is JsArray or Jint.Native.Array.ArrayInstance)
            {
                WriteArray(instance, depth);
            }
            else
            {
                WriteObject(instance, depth);
            }
        }
        finally
        {
            _open.Remove(instance);
        }
    }

    private void WriteArray(ObjectInstance array, int depth)
    {
        double length = TypeConverter.ToNumber(array.Get("length"));
        _text.Append('[');
        for (uint i = 0; i < length; i++)
        {
            if (i > 0)
            {
                _text.Append(',');
            }

            if (_text.Length > _maxChars)
            {
                throw new PreviewFull();
            }

            var element = _allowCalls ? array.Get(i) : DataValue(array, i.ToString(CultureInfo.InvariantCulture));
            if (element.IsUndefined() || element is Function || element is JsSymbol)
            {
                _text.Append("null");
            }
            else
            {
                Write(element, depth + 1, inArray: true);
            }
        }

        _text.Append(']');
    }

    private void WriteObject(ObjectInstance instance, int depth)
    {
        _text.Append('{');
        bool first = true;
        foreach (var key in instance.GetOwnPropertyKeys(Types.String))
        {
            var descriptor = instance.GetOwnProperty(key);
            if (descriptor == Jint.Runtime.Descriptors.PropertyDescriptor.Undefined || !descriptor.Enumerable)
            {
                continue;
            }

            JsValue property;
            if (descriptor.IsAccessorDescriptor())
            {
                if (!_allowCalls)
                {
                    property = new JsString("[Getter]");
                }
                else
                {
                    property = instance.Get(key);
                }
            }
            else
            {
                property = descriptor.Value;
            }

            if (property.IsUndefined() || property is Function || property is JsSymbol)
            {
                continue;
            }

            if (!first)
            {
                _text.Append(',');
            }

            first = false;
            WriteQuoted(key.ToString());
            _text.Append(':');
            Write(property, depth + 1, inArray: false);
        }

        _text.Append('}');
    }

    private void WriteQuoted(string s)
    {
        _text.Append('"');
        foreach (char c in s)
        {
            if (_text.Length > _maxChars)
            {
                throw new PreviewFull();
            }

            switch (c)
            {
                case '"': _text.Append("\\\""); break;
                case '\\': _text.Append("\\\\"); break;
                case '\n': _text.Append("\\n"); break;
                case '\r': _text.Append("\\r"); break;
                case '\t': _text.Append("\\t"); break;
                case '\b': _text.Append("\\b"); break;
                case '\f': _text.Append("\\f"); break;
                default:
                    if (c < 0x20)
                    {
                        _text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        _text.Append(c);
                    }

                    break;
            }
        }

        _text.Append('"');
    }

    /// <summary>A data property's value along the prototype chain, without running a getter or a Proxy trap.</summary>
    internal static JsValue DataValue(ObjectInstance instance, string key)
    {
        var current = instance;
        for (int i = 0; current is not null && i < 10_000; i++, current = current.Prototype)
        {
            if (IsProxy(current))
            {
                return JsValue.Undefined;
            }

            var descriptor = current.GetOwnProperty(key);
            if (descriptor != Jint.Runtime.Descriptors.PropertyDescriptor.Undefined)
            {
                return descriptor.IsAccessorDescriptor() ? new JsString("[Getter]") : descriptor.Value ?? JsValue.Undefined;
            }
        }

        return JsValue.Undefined;
    }

    /// <summary><see cref="DataValue"/> as text when it is a primitive; <see langword="null"/> otherwise.</summary>
    internal static string? DataString(ObjectInstance instance, string key) => DataValue(instance, key) switch
    {
        JsString s => s.ToString(),
        JsNumber or JsBoolean => TypeConverter.ToString(DataValue(instance, key)),
        _ => null,
    };

    internal static bool IsProxy(ObjectInstance instance) => instance.GetType().Name == "JsProxy";

    private static string? SafeToString(JsValue value)
    {
        try
        {
            return TypeConverter.ToString(value);
        }
        catch (Exception e) when (e is JavaScriptException or JintException)
        {
            return value is ObjectInstance ? "[object Object]" : null;
        }
    }

    private sealed class PreviewFull : Exception;
}
