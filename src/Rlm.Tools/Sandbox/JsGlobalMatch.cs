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
/// <c>text.match(/…/g)</c> on a long text, with the limits checked: Jint's own collects every match in one built-in step
/// (measured on Jint 4.18: <c>'ab'.repeat(5e7).match(/b/g)</c> ran for more than 20 s). This one runs the same compiled
/// expression and checks the limits every <see cref="JsBulkGuards.CheckEvery"/> matches.
/// </summary>
/// <remarks>
/// Taken only for a plain global expression (not sticky, not Unicode, whose empty matches advance differently) whose
/// <c>exec</c> and <c>Symbol.match</c> are the built-ins; anything else goes to Jint's own <c>match</c>.
/// </remarks>
internal static class JsGlobalMatch
{
    /// <summary>Texts longer than this are matched here.</summary>
    public const int CheckedMatchChars = 1 << 20;

    public static void Install(Engine engine)
    {
        var stringPrototype = (ObjectInstance)engine.GetValue("String").AsObject().Get("prototype");
        var regExpPrototype = (ObjectInstance)engine.GetValue("RegExp").AsObject().Get("prototype");
        var match = (Function)stringPrototype.Get("match");
        var exec = regExpPrototype.Get("exec");
        var symbolMatch = regExpPrototype.Get(GlobalSymbolRegistry.Match);
        var checkedMatch = new ClrFunction(engine, "match", (self, args) =>
            self is JsString { Length: > CheckedMatchChars } text
            && args.At(0) is JsRegExp { Global: true, Sticky: false, Unicode: false, UnicodeSets: false, Value: { } regex } expression
            && ReferenceEquals(expression.Get("exec"), exec)
            && ReferenceEquals(expression.Get(GlobalSymbolRegistry.Match), symbolMatch)
                ? Matches(engine, expression, regex, text.ToString())
                : match.Call(self, args), 1, PropertyFlag.Configurable);
        stringPrototype.FastSetProperty("match", new PropertyDescriptor(checkedMatch, PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));
    }

    private static JsValue Matches(Engine engine, JsRegExp expression, Regex regex, string text)
    {
        // As the specification's global match: lastIndex starts at 0 and the final failed search leaves it at 0.
        expression.Set("lastIndex", 0, true);
        var found = new List<JsValue>();
        try
        {
            foreach (var match in regex.EnumerateMatches(text))
            {
                if (((found.Count + 1) & (JsBulkGuards.CheckEvery - 1)) == 0)
                {
                    engine.Constraints.Check();
                }

                found.Add(new JsString(text.Substring(match.Index, match.Length)));
            }
        }
        catch (RegexMatchTimeoutException)
        {
            throw JsErrors.Range(engine, "match: the regular expression took too long on this text.");
        }

        return found.Count == 0 ? JsValue.Null : new JsArray(engine, found.ToArray());
    }
}
