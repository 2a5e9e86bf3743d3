using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Acornima;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Rlm.Tools.Context;

namespace Rlm.Tools.Sandbox;

/// <summary>How a failed script is told to the model: the error, its line and column, and the source line.</summary>
internal sealed partial class JsSandbox
{
    /// <summary><see cref="Describe"/>, capped at <see cref="JsLimits.MaxOutputChars"/>; a failure to describe is itself described.</summary>
    private string SafeDescribe(Exception e, string code)
    {
        string text;
        try
        {
            text = Describe(e, code);
        }
        catch (Exception inner)
        {
            text = $"Uncaught exception that cannot be shown ({e.GetType().Name}; describing it failed with {inner.GetType().Name}: {TextLimits.OneLine(inner.Message, 200)})";
        }

        return TextLimits.Cap(text, _limits.MaxOutputChars);
    }

    private string Describe(Exception e, string code) => e switch
    {
        ScriptPreparationException { InnerException: ParseErrorException p } => DescribeSyntaxError(p, code),
        ScriptPreparationException { InnerException: InsufficientExecutionStackException } => "SyntaxError: the code nests too deeply to parse; flatten it.",
        ParseErrorException p => DescribeSyntaxError(p, code),
        ScriptPreparationException p => $"SyntaxError: {s_sourcePosition.Replace(p.Message, "")}",
        JsSyntaxException => $"SyntaxError: {e.Message}",
        JavaScriptException j => DescribeJavaScriptError(j, code),
        JsLimitExceededException => e.Message,
        JsLimitStackException or RecursionDepthOverflowException or InsufficientExecutionStackException => JsLimitExceededException.Recursion(_limits).Message,
        RegexMatchTimeoutException => JsLimitExceededException.Time(_limits).Message + " A regular expression ran too long: avoid nested quantifiers like (a+)+.",
        TimeoutException => JsLimitExceededException.Time(_limits).Message,
        StatementsCountOverflowException => JsLimitExceededException.Statements(_limits).Message,
        MemoryLimitExceededException or OutOfMemoryException => JsLimitExceededException.Memory(_limits).Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>A parse error with its 1-based line and column (as editors count) and the offending line.</summary>
    private static string DescribeSyntaxError(ParseErrorException e, string code)
    {
        var text = new StringBuilder("SyntaxError: ").Append(s_sourcePosition.Replace(e.Error?.Description ?? e.Message, ""));
        text.Append(CultureInfo.InvariantCulture, $" (line {e.LineNumber}, column {e.Column + 1}");
        if (SourceLine(code, e.LineNumber) is { Length: > 0 } source)
        {
            text.Append(": ").Append(TextLimits.Line(source, MaxSnippetChars));
        }

        return text.Append(')').ToString();
    }

    private string DescribeJavaScriptError(JavaScriptException e, string code)
    {
        var engine = _engine!;
        var thrown = e.Error;
        string text;
        if (thrown is JsError error)
        {
            // Data properties only: a getter on name or message is script code, and the script may have hit a limit.
            string name = JsPreview.DataString(error, "name") ?? "Error";
            string message = JsPreview.DataString(error, "message") ?? "";
            if (message.Length > _limits.MaxOutputChars)
            {
                message = TextLimits.Cap(message, _limits.MaxOutputChars); // a 50-million-character message stays cheap
            }

            message = s_sourcePosition.Replace(message, "");
            if (message.Contains("String compilation has been disabled", StringComparison.Ordinal))
            {
                message += " (eval and the Function constructor are not available in exec_js: write the code directly)";
            }

            text = message.Length == 0 ? name : $"{name}: {message}";
            if (name == "RangeError" && message.StartsWith("Maximum call stack size exceeded", StringComparison.Ordinal))
            {
                text = JsLimitExceededException.Recursion(_limits).Message;
            }
        }
        else
        {
            text = "Uncaught " + (SafeRender(engine, thrown, quoteStrings: true) ?? "undefined");
        }

        var builder = new StringBuilder(text);
        int line = e.Location.Start.Line;
        if (line > 0)
        {
            builder.Append(CultureInfo.InvariantCulture, $" (line {line}, column {e.Location.Start.Column + 1}");
            if (SourceLine(code, line) is { Length: > 0 } source)
            {
                builder.Append(": ").Append(TextLimits.Line(source, MaxSnippetChars));
            }

            builder.Append(')');
        }

        return builder.ToString();
    }

    private static string? SourceLine(string code, int line)
    {
        int start = 0;
        for (int i = 1; i < line; i++)
        {
            int next = code.IndexOf('\n', start);
            if (next < 0)
            {
                return null;
            }

            start = next + 1;
        }

        int end = code.IndexOf('\n', start);
        return code[start..(end < 0 ? code.Length : end)].Trim();
    }
}
