using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// Rewrites the <c>choices[i].finish_reason</c> values of one Chat Completions JSON payload (a whole non-streaming
/// response, or one streaming chunk) so that the OpenAI SDK (2.x) can deserialize it.
/// </summary>
/// <remarks>
/// <para>
/// The SDK only accepts <c>stop</c>, <c>length</c>, <c>tool_calls</c>, <c>content_filter</c> and <c>function_call</c>
/// (and <see langword="null"/> in streaming chunks); anything else throws <see cref="ArgumentOutOfRangeException"/>
/// while deserializing. Mapping (see <see cref="Map"/>):
/// </para>
/// <list type="bullet">
/// <item>the five known values: unchanged (not even re-serialized when a payload holds nothing else to fix);</item>
/// <item>case variants of the known values (<c>STOP</c>): lower-cased;</item>
/// <item><c>max_tokens</c>, <c>max_output_tokens</c>, <c>max_completion_tokens</c>, <c>max_length</c>,
/// <c>model_length</c>: <c>length</c>;</item>
/// <item><c>tool_use</c>, <c>tool_call</c>: <c>tool_calls</c>;</item>
/// <item><c>safety</c>, <c>recitation</c>, <c>blocklist</c>, <c>prohibited_content</c>, <c>spii</c>,
/// <c>content_filtered</c>: <c>content_filter</c>;</item>
/// <item>anything else (<c>eos</c>, <c>end_turn</c>, <c>stop_sequence</c>, <c>abort</c>, <c>error</c>, ...), and a
/// <see langword="null"/> or missing value in a non-streaming choice: <c>tool_calls</c> when that choice's message
/// carries tool calls (when streaming: when that chunk's delta or an earlier chunk of the stream did), <c>stop</c>
/// otherwise.</item>
/// </list>
/// <para>
/// A <see langword="null"/> value in a streaming chunk is valid (the stream is not finished) and is left alone.
/// The original value is not kept anywhere: the rewritten payload is all the SDK (and Microsoft.Extensions.AI) sees.
/// </para>
/// </remarks>
internal static class FinishReasonNormalizer
{
    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        // Keep non-ASCII text as-is rather than \u-escaping it; control characters are still escaped, so the output
        // never contains a raw line break (which matters for server-sent events).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Gets a value indicating whether the SDK accepts <paramref name="value"/> as it is.</summary>
    internal static bool IsKnown(string value) => value is "stop" or "length" or "tool_calls" or "content_filter" or "function_call";

    /// <summary>Maps a finish reason the SDK does not accept to one it does (see the class remarks).</summary>
    /// <param name="original">The server's value; <see langword="null"/> when it was null or missing.</param>
    /// <param name="hasToolCalls">Whether the choice carries tool calls.</param>
    internal static string Map(string? original, bool hasToolCalls)
    {
        string? normalized = original?.Trim().ToLowerInvariant();
        return normalized switch
        {
            "stop" or "length" or "tool_calls" or "content_filter" or "function_call" => normalized,
            "max_tokens" or "max_output_tokens" or "max_completion_tokens" or "max_length" or "model_length" => "length",
            "tool_use" or "tool_call" => "tool_calls",
            "safety" or "recitation" or "blocklist" or "prohibited_content" or "spii" or "content_filtered" => "content_filter",
            _ => hasToolCalls ? "tool_calls" : "stop",
        };
    }

    /// <summary>
    /// Normalizes one JSON payload.
    /// </summary>
    /// <param name="json">The UTF-8 JSON payload.</param>
    /// <param name="streaming">Whether it is a streaming chunk (a null finish reason is then valid).</param>
    /// <param name="earlierToolCalls">
    /// Streaming: whether an earlier chunk of the same stream carried tool-call deltas (the chunk with the finish reason
    /// usually carries none); an unknown finish reason then maps to <c>tool_calls</c>.
    /// </param>
    /// <returns>The rewritten UTF-8 JSON, or <see langword="null"/> when nothing had to change (or it is not a JSON object).</returns>
    internal static byte[]? TryNormalize(ReadOnlySpan<byte> json, bool streaming, bool earlierToolCalls = false)
    {
        if (streaming && !MayNeedNormalization(json))
        {
            return null;
        }

        JsonObject? rootObject;
        try
        {
            rootObject = JsonNode.Parse(json) as JsonObject;
            if (rootObject is null || !Normalize(rootObject, streaming, earlierToolCalls))
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            // Malformed JSON, or duplicate property names (JsonObject rejects them): leave the payload to the SDK.
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(json.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            rootObject.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Rewrites the finish reasons of <paramref name="root"/>'s choices in place.</summary>
    /// <returns><see langword="true"/> when something changed.</returns>
    internal static bool Normalize(JsonObject root, bool streaming, bool earlierToolCalls = false)
    {
        if (!root.TryGetPropertyValue("choices", out JsonNode? choicesNode) || choicesNode is not JsonArray choices)
        {
            return false;
        }

        bool changed = false;
        for (int i = 0; i < choices.Count; i++)
        {
            if (choices[i] is not JsonObject choice)
            {
                continue;
            }

            choice.TryGetPropertyValue("finish_reason", out JsonNode? reason);
            string? original;
            if (reason is null)
            {
                if (streaming)
                {
                    continue; // "not finished yet": valid.
                }

                original = null;
            }
            else if (reason.GetValueKind() == JsonValueKind.String)
            {
                original = reason.GetValue<string>();
                if (IsKnown(original))
                {
                    continue;
                }
            }
            else
            {
                original = reason.ToJsonString(); // a number, boolean, object...: not a string the SDK could take.
            }

            choice["finish_reason"] = Map(original, earlierToolCalls || HasToolCalls(choice, streaming ? "delta" : "message"));
            changed = true;
        }

        return changed;
    }

    private static bool HasToolCalls(JsonObject choice, string messageProperty)
        => choice.TryGetPropertyValue(messageProperty, out JsonNode? message)
            && message is JsonObject messageObject
            && messageObject.TryGetPropertyValue("tool_calls", out JsonNode? toolCalls)
            && toolCalls is JsonArray { Count: > 0 };

    /// <summary>
    /// A cheap pre-check for streaming chunks, which nearly all carry <c>"finish_reason":null</c>: returns
    /// <see langword="false"/> only when every <c>"finish_reason":</c> key in <paramref name="json"/> is followed by
    /// <c>null</c> or a known string. Any doubt answers <see langword="true"/> and the chunk is parsed properly.
    /// </summary>
    /// <remarks>
    /// Inside JSON strings a quote is always escaped (<c>\"</c>), so the unescaped byte sequence <c>"finish_reason"</c>
    /// followed by <c>:</c> can only be a property name.
    /// </remarks>
    internal static bool MayNeedNormalization(ReadOnlySpan<byte> json)
    {
        int start = 0;
        while (true)
        {
            int position = NextPropertyValue(json, "\"finish_reason\""u8, ref start);
            if (position < 0)
            {
                return false;
            }

            ReadOnlySpan<byte> rest = json[position..];
            if (rest.StartsWith("null"u8))
            {
                continue;
            }

            if (!rest.StartsWith("\""u8))
            {
                return true;
            }

            int end = rest[1..].IndexOfAny((byte)'"', (byte)'\\');
            if (end < 0 || rest[1 + end] == (byte)'\\')
            {
                return true;
            }

            ReadOnlySpan<byte> value = rest.Slice(1, end);
            if (!(value.SequenceEqual("stop"u8) || value.SequenceEqual("length"u8) || value.SequenceEqual("tool_calls"u8)
                || value.SequenceEqual("content_filter"u8) || value.SequenceEqual("function_call"u8)))
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Gets whether a streaming chunk has a <c>"tool_calls":</c> property (a tool-call delta), by a byte scan: inside JSON
    /// strings quotes are escaped, so the unescaped key followed by <c>:</c> is a property name. (A finish reason value
    /// <c>"tool_calls"</c> is followed by <c>,</c> or <c>}</c>, not <c>:</c>.)
    /// </summary>
    internal static bool HasToolCallsProperty(ReadOnlySpan<byte> json)
    {
        int start = 0;
        while (true)
        {
            int position = NextPropertyValue(json, "\"tool_calls\""u8, ref start);
            if (position < 0)
            {
                return false;
            }

            if (position < json.Length && json[position] == (byte)'[')
            {
                position = SkipWhitespace(json, position + 1);
                if (position < json.Length && json[position] != (byte)']')
                {
                    return true;
                }
            }
        }
    }

    /// <summary>
    /// Finds the next property named <paramref name="key"/> (quoted) from <paramref name="start"/>, which moves past it:
    /// the position of its value (whitespace skipped), or -1 when there is none. An occurrence not followed by <c>:</c> is a
    /// string value, not a name, and is passed over.
    /// </summary>
    private static int NextPropertyValue(ReadOnlySpan<byte> json, ReadOnlySpan<byte> key, ref int start)
    {
        while (true)
        {
            int found = json[start..].IndexOf(key);
            if (found < 0)
            {
                return -1;
            }

            start += found + key.Length;
            int position = SkipWhitespace(json, start);
            if (position < json.Length && json[position] == (byte)':')
            {
                return SkipWhitespace(json, position + 1);
            }
        }
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> json, int position)
    {
        while (position < json.Length && json[position] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            position++;
        }

        return position;
    }
}
