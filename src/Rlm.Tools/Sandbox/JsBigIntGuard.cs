using System.Globalization;
using System.Numerics;
using System.Text;
using Acornima;
using Acornima.Ast;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Bounds the size of BigInts. Jint 4.18 caps <c>**</c>, <c>&lt;&lt;</c> and <c>BigInt.asUintN</c> near a million bits
/// but not <c>*</c> (<c>x *= x</c> doubles the size with every statement), and at a million bits one multiplication, or
/// printing the number (4 s in decimal, 54 s in hexadecimal), runs for seconds inside a single step, past every limit.
/// </summary>
/// <remarks>
/// Jint has no hook on operators, so a script that uses BigInt is rewritten before it runs: every <c>a op b</c> with op one
/// of <c>* + - ** &lt;&lt; &gt;&gt;</c> becomes <c>__rlm_big('op', (a), (b))</c>, and <c>x op= y</c> becomes
/// <c>(x = __rlm_big('op', (x), (y)))</c>; the guard refuses a BigInt result of more than <see cref="MaxBits"/> bits with a
/// <c>RangeError</c> and otherwise computes as the operator does. So is a larger BigInt literal, and
/// <see cref="JsGuards"/> checks what <c>BigInt(…)</c>, <c>asIntN</c> and <c>asUintN</c> make. A script uses BigInt when
/// it has a BigInt literal or the text <c>BigInt</c>, or an earlier call of the session did (its values may sit in
/// globals); other scripts run unchanged, at full speed. The built-ins that make BigInts without a literal
/// (<c>BigInt(…)</c>, <c>BigInt64Array</c>, <c>BigUint64Array</c>, <c>DataView</c>'s <c>getBig…</c>) refuse to run in a
/// script that does not name BigInt, so no BigInt reaches an unrewritten script.
/// </remarks>
internal sealed class JsBigIntGuard
{
    /// <summary>
    /// Largest BigInt (bits) an operation may make. Measured on Jint 4.18: printing a million-bit BigInt takes 4 s in
    /// decimal, 21 s with <c>toLocaleString</c> and 54 s in hexadecimal, all in one step; at this size, well under 0.3 s.
    /// </summary>
    public const int MaxBits = 65_536;

    /// <summary>The global the rewritten scripts call; reserved (a script that names it is refused).</summary>
    public const string GuardName = "__rlm_big";

    // The operators that can make a BigInt larger than their operands, rewritten in scripts that use BigInt.
    private static readonly Dictionary<Operator, string> Symbols = new()
    {
        [Operator.Multiplication] = "*", [Operator.MultiplicationAssignment] = "*",
        [Operator.Addition] = "+", [Operator.AdditionAssignment] = "+",
        [Operator.Subtraction] = "-", [Operator.SubtractionAssignment] = "-",
        [Operator.Exponentiation] = "**", [Operator.ExponentiationAssignment] = "**",
        [Operator.LeftShift] = "<<", [Operator.LeftShiftAssignment] = "<<",
        [Operator.RightShift] = ">>", [Operator.RightShiftAssignment] = ">>",
    };

    private bool _sessionUsesBigInt;

    /// <summary>Gets a value indicating whether the running script was prepared as one that uses BigInt.</summary>
    public bool CurrentScriptUsesBigInt { get; private set; }

    /// <summary>Defines <see cref="GuardName"/> in <paramref name="engine"/>'s realm.</summary>
    public void Install(Engine engine)
    {
        // Compiled here, never rewritten: the operations themselves, after the size check.
        var operations = (ObjectInstance)engine.Evaluate(
            "({ '*': (a, b) => a * b, '+': (a, b) => a + b, '-': (a, b) => a - b, '**': (a, b) => a ** b, '<<': (a, b) => a << b, '>>': (a, b) => a >> b })");
        var byOperator = new Dictionary<string, Function>(StringComparer.Ordinal);
        foreach (string symbol in Symbols.Values)
        {
            byOperator[symbol] = (Function)operations.Get(symbol);
        }

        var guarded = new ClrFunction(engine, GuardName, (_, args) =>
        {
            string symbol = TypeConverter.ToString(args.At(0));

            // Numbers, the common case, computed here as IEEE doubles exactly as the operators do (no second call).
            if (args.At(1) is JsNumber a && args.At(2) is JsNumber b && symbol is "+" or "-" or "*")
            {
                double x = a.AsNumber(), y = b.AsNumber();
                return JsNumber.Create(symbol == "+" ? x + y : symbol == "-" ? x - y : x * y);
            }

            // '+' converts its operands as '+' does (it may join text); the others as numbers, left first.
            var left = symbol == "+" ? TypeConverter.ToPrimitive(args.At(1)) : TypeConverter.ToNumeric(args.At(1));
            var right = symbol == "+" ? TypeConverter.ToPrimitive(args.At(2)) : TypeConverter.ToNumeric(args.At(2));
            if (left is JsBigInt && right is JsBigInt)
            {
                EnsureFits(engine, symbol, TypeConverter.ToBigInt(left), TypeConverter.ToBigInt(right));
            }

            return byOperator[symbol].Call(JsValue.Undefined, [left, right]);
        }, 3, PropertyFlag.Configurable);
        engine.Global.FastSetProperty(GuardName, new PropertyDescriptor(guarded, PropertyFlag.None));
    }

    /// <summary>Throws a <c>RangeError</c> when <paramref name="value"/> has more than <see cref="MaxBits"/> bits.</summary>
    public static void EnsureFits(Engine engine, BigInteger value, string what)
    {
        long bits = value.GetBitLength();
        if (bits > MaxBits)
        {
            throw TooLarge(engine, what, bits);
        }
    }

    private static void EnsureFits(Engine engine, string symbol, BigInteger left, BigInteger right)
    {
        long a = left.GetBitLength(), b = right.GetBitLength();
        double bits = symbol switch
        {
            "*" => a + b,
            "+" or "-" => Math.Max(a, b) + 1,
            "**" => right.Sign > 0 && BigInteger.Abs(left) > BigInteger.One ? a * (double)right : 1,
            "<<" => right.Sign > 0 ? a + (double)right : a,
            ">>" => right.Sign < 0 ? a - (double)right : a,
            _ => 0,
        };
        if (bits > MaxBits)
        {
            throw TooLarge(engine, $"BigInt '{symbol}'", bits);
        }
    }

    private static JavaScriptException TooLarge(Engine engine, string what, double bits) =>
        JsErrors.Range(engine, string.Create(CultureInfo.InvariantCulture,
            $"{what} would make a BigInt of about {bits:N0} bits; the sandbox allows {MaxBits:N0} (larger ones take seconds to multiply or print)."));

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
    /// <exception cref="JsSyntaxException">The code names <see cref="GuardName"/>, or uses <c>*=</c> on a target that
    /// cannot be read twice without side effects in a script that uses BigInt.</exception>
    public string Prepare(string code, Script script)
    {
        if (code.Contains(GuardName, StringComparison.Ordinal))
        {
            throw new JsSyntaxException($"the name {GuardName} is reserved by the sandbox.");
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
                case BigIntLiteral literal:
                    usesBigInt = true;
                    if (literal.Value.GetBitLength() > MaxBits)
                    {
                        throw new JsSyntaxException(string.Create(CultureInfo.InvariantCulture,
                            $"a BigInt literal of {literal.Value.GetBitLength():N0} bits; the sandbox allows {MaxBits:N0}."));
                    }

                    break;
                case BinaryExpression binary when Symbols.ContainsKey(binary.Operator):
                    targets.Add(node);
                    break;
                case AssignmentExpression assignment when Symbols.ContainsKey(assignment.Operator):
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
                    text.Append(GuardName).Append("('").Append(Symbols[product.Operator]).Append("', (");
                    Emit(code, product.Left.Start, product.Left.End, text, targets, ref next);
                    text.Append("), (");
                    Emit(code, product.Right.Start, product.Right.End, text, targets, ref next);
                    text.Append("))");
                    break;
                case AssignmentExpression assignment:
                    if (!IsPlainTarget(assignment.Left))
                    {
                        throw new JsSyntaxException(string.Create(CultureInfo.InvariantCulture,
                            $"in a script that uses BigInt, compound assignments ('+=', '*=', …) need a plain target (a name, or obj.name / obj[i]); write 'x = x + y' instead (at offset {assignment.Start:N0})."));
                    }

                    string left = code[assignment.Left.Start..assignment.Left.End];
                    text.Append('(').Append(left).Append(" = ").Append(GuardName).Append("('").Append(Symbols[assignment.Operator]).Append("', (").Append(left).Append("), (");
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
