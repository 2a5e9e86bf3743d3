using System.Globalization;

namespace Rlm.Tools.Eval.Running;

/// <summary>
/// The direct baseline's single prompt: the context, cut to a window when too long, then the question.
/// A cut keeps the first and last halves of the allowed characters with a marker between them, so both
/// the start of a context and its end (for OOLONG, the "Recall" paragraph) survive.
/// </summary>
public static class DirectPrompt
{
    public static (string Prompt, bool Cut, int ContextCharsSent) Build(string context, string question, int windowTokens)
    {
        var budget = Math.Max(0, windowTokens * Generation.TokenMath.CharsPerToken - question.Length - 200);
        var cut = context.Length > budget;
        string body;
        var sent = context.Length;
        if (cut)
        {
            var omitted = context.Length - budget;
            var marker = string.Create(CultureInfo.InvariantCulture, $"\n[... {omitted} characters of the context cut to fit the window ...]\n");
            var keep = Math.Max(0, budget - marker.Length);
            var head = keep / 2;
            var tail = keep - head;
            body = context[..head] + marker + context[^tail..];
            sent = keep;
        }
        else
        {
            body = context;
        }

        return (body + "\n\n" + question, cut, sent);
    }
}
