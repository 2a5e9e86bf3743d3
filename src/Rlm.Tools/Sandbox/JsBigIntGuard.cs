using System.Globalization;
using System.Text;
using Acornima;
using Acornima.Ast;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Bounds BigInt multiplication, the one BigInt operation Jint 4.18 leaves unbounded: it caps <c>**</c>, <c>&lt;&lt;</c>
/// and <c>BigInt.asUintN</c> near a million bits, but <c>x *= x</c> doubles the size with every statement, and one
/// multiplication of ten-million-bit numbers runs for minutes inside a single step, past every limit, keeping its core.
/// </summary>
/// <remarks>
/// Jint has no hook on operators, so a script that uses BigInt is rewritten before it runs: every <c>a * b</c> becomes
/// <c>__rlm_mul((a), (b))</c> and <c>x *= y</c> becomes <c>(x = __rlm_mul((x), (y)))</c>, which refuses a product of more
/// than <see cref="MaxProductBits"/> bits with a <c>RangeError</c> and otherwise multiplies as <c>*</c> does. A script
/// uses BigInt when it has a BigInt literal or the text <c>BigInt</c>, or an earlier call of the session did (its values
/// may sit in globals); other scripts run unchanged, at full speed. The built-ins that make BigInts without a literal
/// (<c>BigInt(…)</c>, <c>BigInt64Array</c>, <c>BigUint64Array</c>, <c>DataView</c>'s <c>getBig…</c>) refuse to run in a
/// script that does not name BigInt, so no BigInt reaches an unrewritten script.
/// </remarks>
internal sealed class JsBigIntGuard
{
    /// <summary>Largest product (bits) a multiplication may make: the size Jint allows <c>**</c> and <c>&lt;&lt;</c>.</summary>
    public const int MaxProductBits = 1_000_000;

    /// <summary>The global the rewritten scripts call; reserved (a script that names it is refused).</summary>
    public const string MultiplyName = "__rlm_mul";

    private bool _sessionUsesBigInt;

    /// <summary>Gets a value indicating whether the running script was prepared as one that uses BigInt.</summary>
    public bool CurrentScriptUsesBigInt { get; private set; }

    /// <summary>Defines <see cref="MultiplyName"/> in <paramref name="engine"/>'s realm.</summary>
    public void Install(Engine engine)
    {
        // Compiled here, never rewritten: the multiplication itself, after the size check.
        var multiply = (Function)engine.Evaluate("(a, b) => a * b");
        var guarded = new ClrFunction(engine, MultiplyName, (_, args) =>
        {
            var left = TypeConverter.ToNumeric(args.At(0));
            var right = TypeConverter.ToNumeric(args.At(1));
            if (left is JsBigInt && right is JsBigInt)
            {
                long bits = TypeConverter.ToBigInt(left).GetBitLength() + TypeConverter.ToBigInt(right).GetBitLength();
                if (bits > MaxProductBits)
                {
                    throw JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
                        $"BigInt multiplication would make a number of about {bits:N0} bits; the sandbox allows {MaxProductBits:N0}."));
                }
            }

            return multiply.Call(JsValue.Undefined, [left, right]);
        }, 2, PropertyFlag.Configurable);
        engine.Global.FastSetProperty(MultiplyName, new PropertyDescriptor(guarded, PropertyFlag.None));
    }

    /// <summary>Throws a <c>TypeError</c> when the running script may not make BigInts (it was not rewritten).</summary>
    public void EnsureAllowed(Engine engine, string what)
    {
        if (!CurrentScriptUsesBigInt)
        {
            throw new JavaScriptException(engine.Intrinsics.TypeError,
                $"{what}: this script does not name BigInt, so the sandbox did not prepare it for BigInts; write BigInt (or a literal such as 1n) in the script to use them.");
        }
    }

    /// <summary>
    /// The code to run for <paramref name="code"/> (parsed as <paramref name="script"/>): rewritten when it uses BigInt,
    /// else unchanged.
    /// </summary>
    /// <exception cref="JsSyntaxException">The code names <see cref="MultiplyName"/>, or uses <c>*=</c> on a target that
    /// cannot be read twice without side effects in a script that uses BigInt.</exception>
    public string Prepare(string code, Script script)
    {
        if (code.Contains(MultiplyName, StringComparison.Ordinal))
        {
            throw new JsSyntaxException($"the name {MultiplyName} is reserved by the sandbox.");
        }

        var targets = new List<Node>();
        bool usesBigInt = _sessionUsesBigInt || code.Contains("BigInt", StringComparison.Ordinal);
        var pending = new Stack<Node>();
        pending.Push(script);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            switch (node)
            {
                case BigIntLiteral:
                    usesBigInt = true;
                    break;
                case BinaryExpression { Operator: Operator.Multiplication }:
                    targets.Add(node);
                    break;
                case AssignmentExpression { Operator: Operator.MultiplicationAssignment }:
                    // A target that cannot be read twice is refused in Emit, only if the script turns out to use BigInt.
                    targets.Add(node);
                    break;
            }

            foreach (var child in node.ChildNodes)
            {
                pending.Push(child);
            }
        }

        CurrentScriptUsesBigInt = usesBigInt;
        if (!usesBigInt || targets.Count == 0)
        {
            _sessionUsesBigInt |= usesBigInt;
            return code;
        }

        _sessionUsesBigInt = true;
        targets.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.End.CompareTo(a.End));
        var text = new StringBuilder(code.Length + (targets.Count * 24));
        int next = 0;
        Emit(code, 0, code.Length, text, targets, ref next);
        return text.ToString();
    }

    /// <summary>Forgets the session's BigInt use (a new engine holds no BigInts).</summary>
    public void Reset() => _sessionUsesBigInt = false;

    private static void Emit(string code, int start, int end, StringBuilder text, List<Node> targets, ref int next)
    {
        int position = start;
        while (next < targets.Count && targets[next].Start < end)
        {
            var target = targets[next++];
            text.Append(code, position, target.Start - position);
            switch (target)
            {
                case BinaryExpression product:
                    text.Append(MultiplyName).Append("((");
                    Emit(code, product.Left.Start, product.Left.End, text, targets, ref next);
                    text.Append("), (");
                    Emit(code, product.Right.Start, product.Right.End, text, targets, ref next);
                    text.Append("))");
                    break;
                case AssignmentExpression assignment:
                    if (!IsPlainTarget(assignment.Left))
                    {
                        throw new JsSyntaxException(string.Create(CultureInfo.InvariantCulture,
                            $"in a script that uses BigInt, '*=' needs a plain target (a name, or obj.name / obj[i]); write 'x = x * y' instead (at offset {assignment.Start:N0})."));
                    }

                    string left = code[assignment.Left.Start..assignment.Left.End];
                    text.Append('(').Append(left).Append(" = ").Append(MultiplyName).Append("((").Append(left).Append("), (");
                    Emit(code, assignment.Right.Start, assignment.Right.End, text, targets, ref next);
                    text.Append(")))");
                    break;
            }

            position = target.End;
        }

        text.Append(code, position, end - position);
    }

    /// <summary>A target that reads the same, with no side effect, when evaluated twice: a name, or members of one keyed by names or literals.</summary>
    private static bool IsPlainTarget(Node node) => node switch
    {
        Identifier or ThisExpression => true,
        MemberExpression { Optional: false } member => IsPlainTarget(member.Object)
            && (!member.Computed || member.Property is Identifier or Literal)
            && member.Property is Identifier or Literal or PrivateIdentifier,
        _ => false,
    };
}
