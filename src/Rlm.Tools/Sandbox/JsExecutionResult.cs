namespace Rlm.Tools.Sandbox;

/// <summary>What one <c>exec_js</c> call produced.</summary>
/// <param name="Output">
/// The text the script printed (<c>print</c>, <c>console.log</c>), one line per call. When it is longer than
/// <see cref="JsLimits.MaxOutputChars"/>, its head and tail are kept with a note of the omitted count between (the whole at
/// most that long) and <paramref name="OutputTruncated"/> is set. Output printed before an error is kept.
/// </param>
/// <param name="Value">
/// The completion value of the script (the value of its last expression statement) as text: strings as they are,
/// objects and arrays as <c>JSON.stringify</c> text, <see langword="null"/> when it is <c>undefined</c> or the call failed.
/// Capped like the output (head and tail with a note).
/// </param>
/// <param name="Error">Why the call failed (syntax error, uncaught JavaScript error, exceeded limit), or <see langword="null"/>.</param>
/// <param name="OutputTruncated">Whether <paramref name="Output"/> lost characters to the cap.</param>
internal sealed record JsExecutionResult(string Output, string? Value, string? Error, bool OutputTruncated);
