using Jint.Native;
using Jint.Parser.Ast;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Rewrites a parsed program so a host "tick" runs at every loop iteration and every function entry: Jint 2 has no
/// per-statement hook besides its debugger (about 15 times slower), and the tick is where the sandbox checks memory,
/// cancellation and stack depth. The tick is a call whose callee is a literal holding the host function, so scripts
/// cannot see, shadow or overwrite it.
/// </summary>
/// <remarks>
/// Loops get the tick in their test (<c>while (tick(), test)</c>; a missing <c>for</c> test becomes <c>tick()</c>, which
/// returns true), so completion values do not change. <c>for-in</c> bodies and function bodies get a leading
/// <c>tick();</c> statement (counted by the statement limit). The walk also rejects code nested deeper than
/// <see cref="MaxDepth"/> syntax levels, which would otherwise risk a stack overflow in Jint's recursive interpreter.
/// </remarks>
internal static class JsInstrumenter
{
    public const int MaxDepth = 2_000;

    /// <summary>Instruments <paramref name="program"/> in place.</summary>
    /// <exception cref="JsCodeTooDeepException">The program nests deeper than <see cref="MaxDepth"/>.</exception>
    public static void Instrument(Program program, JsValue tickFunction)
    {
        var walker = new Walker(tickFunction);
        walker.Statements(program.Body, 0);
        foreach (var declaration in program.FunctionDeclarations)
        {
            walker.Statement(declaration, 0);
        }
    }

    private sealed class Walker(JsValue tick)
    {
        private readonly HashSet<SyntaxNode> _functions = new(ReferenceEqualityComparer.Instance);

        public void Statements(IEnumerable<Statement>? statements, int depth)
        {
            if (statements is null)
            {
                return;
            }

            foreach (var statement in statements)
            {
                Statement(statement, depth);
            }
        }

        public void Statement(SyntaxNode? node, int depth)
        {
            if (node is null)
            {
                return;
            }

            if (++depth > MaxDepth)
            {
                throw new JsCodeTooDeepException();
            }

            switch (node)
            {
                case BlockStatement s:
                    Statements(s.Body, depth);
                    break;
                case ExpressionStatement s:
                    Expression(s.Expression, depth);
                    break;
                case VariableDeclaration s:
                    foreach (var declarator in s.Declarations)
                    {
                        Expression(declarator.Init, depth);
                    }

                    break;
                case IfStatement s:
                    Expression(s.Test, depth);
                    Statement(s.Consequent, depth);
                    Statement(s.Alternate, depth);
                    break;
                case WhileStatement s:
                    Expression(s.Test, depth);
                    Statement(s.Body, depth);
                    s.Test = WithTick(s.Test, s);
                    break;
                case DoWhileStatement s:
                    Statement(s.Body, depth);
                    Expression(s.Test, depth);
                    s.Test = WithTick(s.Test, s);
                    break;
                case ForStatement s:
                    Statement(s.Init, depth);
                    Expression(s.Test, depth);
                    Expression(s.Update, depth);
                    Statement(s.Body, depth);
                    s.Test = WithTick(s.Test, s);
                    break;
                case ForInStatement s:
                    Statement(s.Left, depth);
                    Expression(s.Right, depth);
                    Statement(s.Body, depth);
                    s.Body = Block(s.Body, TickStatement(s), s.Body);
                    break;
                case FunctionDeclaration s:
                    if (_functions.Add(s))
                    {
                        s.Body = FunctionBody(s.Body, depth, s.FunctionDeclarations);
                    }

                    break;
                case ReturnStatement s:
                    Expression(s.Argument, depth);
                    break;
                case ThrowStatement s:
                    Expression(s.Argument, depth);
                    break;
                case TryStatement s:
                    Statement(s.Block, depth);
                    foreach (var handler in s.Handlers ?? [])
                    {
                        Statement(handler.Body, depth);
                    }

                    foreach (var handler in s.GuardedHandlers ?? [])
                    {
                        Statement(handler, depth);
                    }

                    Statement(s.Finalizer, depth);
                    break;
                case CatchClause s:
                    Statement(s.Body, depth);
                    break;
                case SwitchStatement s:
                    Expression(s.Discriminant, depth);
                    foreach (var switchCase in s.Cases)
                    {
                        Expression(switchCase.Test, depth);
                        Statements(switchCase.Consequent, depth);
                    }

                    break;
                case LabelledStatement s:
                    Statement(s.Body, depth);
                    break;
                case WithStatement s:
                    Expression(s.Object, depth);
                    Statement(s.Body, depth);
                    break;
                case Expression e:
                    // for (init; ...) and for (left in ...) hold expressions in SyntaxNode slots.
                    Expression(e, depth - 1);
                    break;
                default:
                    // break, continue, empty, debugger: nothing to walk.
                    break;
            }
        }

        private void Expression(Expression? node, int depth)
        {
            if (node is null)
            {
                return;
            }

            if (++depth > MaxDepth)
            {
                throw new JsCodeTooDeepException();
            }

            switch (node)
            {
                case FunctionExpression e:
                    if (_functions.Add(e))
                    {
                        e.Body = FunctionBody(e.Body, depth, e.FunctionDeclarations);
                    }

                    break;
                case AssignmentExpression e:
                    Expression(e.Left, depth);
                    Expression(e.Right, depth);
                    break;
                case BinaryExpression e:
                    Expression(e.Left, depth);
                    Expression(e.Right, depth);
                    break;
                case LogicalExpression e:
                    Expression(e.Left, depth);
                    Expression(e.Right, depth);
                    break;
                case CallExpression e:
                    Expression(e.Callee, depth);
                    Expressions(e.Arguments, depth);
                    break;
                case NewExpression e:
                    Expression(e.Callee, depth);
                    Expressions(e.Arguments, depth);
                    break;
                case ConditionalExpression e:
                    Expression(e.Test, depth);
                    Expression(e.Consequent, depth);
                    Expression(e.Alternate, depth);
                    break;
                case MemberExpression e:
                    Expression(e.Object, depth);
                    Expression(e.Property, depth);
                    break;
                case ArrayExpression e:
                    Expressions(e.Elements, depth);
                    break;
                case ObjectExpression e:
                    foreach (var property in e.Properties)
                    {
                        Expression(property.Value, depth);
                    }

                    break;
                case SequenceExpression e:
                    Expressions(e.Expressions, depth);
                    break;
                case UnaryExpression e:
                    // Also UpdateExpression (++, --).
                    Expression(e.Argument, depth);
                    break;
                case VariableDeclarator e:
                    Expression(e.Init, depth);
                    break;
                default:
                    // Identifier, Literal, RegExpLiteral, ThisExpression: leaves.
                    break;
            }
        }

        private void Expressions(IEnumerable<Expression?>? expressions, int depth)
        {
            if (expressions is null)
            {
                return;
            }

            foreach (var expression in expressions)
            {
                Expression(expression, depth);
            }
        }

        private Statement FunctionBody(Statement body, int depth, IEnumerable<FunctionDeclaration>? declarations)
        {
            Statement(body, depth);
            foreach (var declaration in declarations ?? [])
            {
                Statement(declaration, depth);
            }

            return body is BlockStatement block
                ? Block(block, [TickStatement(block), .. block.Body])
                : Block(body, TickStatement(body), body);
        }

        private Expression WithTick(Expression? test, SyntaxNode at)
        {
            var call = TickCall(at);
            return test is null
                ? call
                : new SequenceExpression { Type = SyntaxNodes.SequenceExpression, Expressions = [call, test], Location = test.Location, Range = test.Range };
        }

        private ExpressionStatement TickStatement(SyntaxNode at) =>
            new() { Type = SyntaxNodes.ExpressionStatement, Expression = TickCall(at), Location = at.Location, Range = at.Range };

        private CallExpression TickCall(SyntaxNode at)
        {
            var callee = new Literal { Type = SyntaxNodes.Literal, Value = tick, Cached = true, CachedValue = tick, Raw = "tick", Location = at.Location, Range = at.Range };
            return new CallExpression { Type = SyntaxNodes.CallExpression, Callee = callee, Arguments = [], Location = at.Location, Range = at.Range };
        }

        private static BlockStatement Block(SyntaxNode at, params List<Statement> body) =>
            new() { Type = SyntaxNodes.BlockStatement, Body = body, Location = at.Location, Range = at.Range };
    }
}

/// <summary>The script nests deeper than <see cref="JsInstrumenter.MaxDepth"/> syntax levels.</summary>
internal sealed class JsCodeTooDeepException : Exception
{
    public JsCodeTooDeepException()
        : base($"the code nests more than {JsInstrumenter.MaxDepth:N0} levels deep (expressions, blocks and functions); split it into smaller pieces.")
    {
    }
}
