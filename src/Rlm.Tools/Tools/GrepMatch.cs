using Rlm.Tools.Context;

namespace Rlm.Tools.Tools;

/// <summary>One matching line of <c>grep</c> with the context lines shown around it.</summary>
/// <param name="Hit">The matching line: its 0-based line, character offset, excerpt and document location.</param>
/// <param name="Before">Context lines shown before it (none already shown for an earlier match).</param>
/// <param name="After">Context lines shown after it.</param>
internal sealed record GrepMatch(GrepHit Hit, IReadOnlyList<NumberedLine> Before, IReadOnlyList<NumberedLine> After);
