using System.Globalization;
using System.Text;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Collects printed text in bounded memory: the first <c>max</c> characters and the last <c>max</c> are kept, the rest
/// only counted. <see cref="ToString"/> gives at most <c>max</c> characters: all of it, or head and tail with the
/// omitted count between (the same note as <see cref="Context.TextLimits"/>).
/// </summary>
internal sealed class JsOutputBuffer
{
    private readonly int _max;
    private readonly StringBuilder _head = new();
    private readonly StringBuilder _tail = new();
    private long _total;

    public JsOutputBuffer(int maxChars)
    {
        _max = Math.Max(0, maxChars);
    }

    /// <summary>Gets whether more was written than <see cref="ToString"/> can show.</summary>
    public bool Truncated => _total > _max;

    public void Append(ReadOnlySpan<char> text)
    {
        _total += text.Length;
        int toHead = Math.Min(text.Length, _max - _head.Length);
        if (toHead > 0)
        {
            _head.Append(text[..toHead]);
            text = text[toHead..];
        }

        if (text.IsEmpty)
        {
            return;
        }

        // The tail only ever needs its last _max characters; trim in batches so appends stay amortised O(1).
        if (text.Length >= _max)
        {
            _tail.Clear().Append(text[^_max..]);
            return;
        }

        _tail.Append(text);
        if (_tail.Length > 2 * _max)
        {
            _tail.Remove(0, _tail.Length - _max);
        }
    }

    public override string ToString()
    {
        if (!Truncated)
        {
            return string.Concat(_head.ToString(), _tail.ToString());
        }

        static string Note(long omitted) => string.Create(CultureInfo.InvariantCulture, $"\n[... {omitted:N0} characters omitted ...]\n");
        int budget = (int)Math.Max(0, _max - Note(_total).Length);
        int head = (budget * 2 + 2) / 3;
        int tail = budget - head;

        // Nothing was dropped between head and tail unless the tail holds at least _max (>= tail) characters.
        string tailText = _tail.Length >= tail
            ? _tail.ToString(_tail.Length - tail, tail)
            : string.Concat(_head.ToString(_head.Length - (tail - _tail.Length), tail - _tail.Length), _tail.ToString());
        return string.Concat(_head.ToString(0, head), Note(_total - head - tail), tailText);
    }
}
