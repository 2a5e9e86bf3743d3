namespace Rlm.Tools.Tools;

/// <summary>One line of the view as a tool shows it.</summary>
/// <param name="Number">The line's 0-based number in the view (the number <c>peek_lines</c> takes).</param>
/// <param name="Text">The line without its line break, shortened for display.</param>
internal sealed record NumberedLine(int Number, string Text);
