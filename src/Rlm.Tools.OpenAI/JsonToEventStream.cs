using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rlm.Tools.OpenAI;

/// <summary>
/// Turns a whole <c>chat.completion</c> JSON body into the server-sent events a streaming request expects, for
/// OpenAI-compatible servers that ignore <c>"stream": true</c> and answer with plain JSON: the OpenAI SDK finds no
/// <c>data:</c> lines in such a body and yields nothing, so the reply (text, tool calls, usage) would be lost.
/// </summary>
/// <remarks>
/// Hand-written because the SDK has no such fallback. One chunk per choice carries the choice's whole message as its
/// <c>delta</c> (every property kept; each tool call gets its <c>index</c>) and its finish reason, which
/// <see cref="FinishReasonNormalizer"/> first makes readable as for any non-streaming body; a last chunk with no
/// choices carries the usage, as OpenAI sends it with <c>stream_options.include_usage</c>; then <c>data: [DONE]</c>.
/// </remarks>
internal static class JsonToEventStream
{
    /// <summary>The event stream for <paramref name="json"/>, or <see langword="null"/> when it is not a chat completion object.</summary>
    public static byte[]? TryConvert(ReadOnlySpan<byte> json)
    {
        JsonObject root;
        try
        {
            if (JsonNode.Parse(json) is not JsonObject parsed || parsed["choices"] is not JsonArray)
            {
                return null;
            }

            root = parsed;
        }
        catch (JsonException)
        {
            return null;
        }

        FinishReasonNormalizer.Normalize(root, streaming: false);
        var events = new StringBuilder();
        foreach (var choice in root["choices"]!.AsArray())
        {
            if (choice is not JsonObject whole)
            {
                continue;
            }

            var delta = whole["message"] is JsonObject message ? (JsonObject)message.DeepClone() : new JsonObject();
            if (delta["tool_calls"] is JsonArray calls)
            {
                for (int i = 0; i < calls.Count; i++)
                {
                    if (calls[i] is JsonObject call)
                    {
                        call["index"] = i;
                    }
                }
            }

            var chunkChoice = new JsonObject
            {
                ["index"] = whole["index"]?.DeepClone() ?? 0,
                ["delta"] = delta,
                ["finish_reason"] = whole["finish_reason"]?.DeepClone(),
            };
            if (whole["logprobs"] is { } logprobs)
            {
                chunkChoice["logprobs"] = logprobs.DeepClone();
            }

            Append(events, Chunk(root, new JsonArray(chunkChoice), usage: null));
        }

        if (root["usage"] is JsonObject usage)
        {
            Append(events, Chunk(root, [], usage.DeepClone()));
        }

        events.Append("data: [DONE]\n\n");
        return Encoding.UTF8.GetBytes(events.ToString());
    }

    private static JsonObject Chunk(JsonObject completion, JsonArray choices, JsonNode? usage)
    {
        var chunk = new JsonObject();
        foreach (var (name, value) in completion)
        {
            if (name is not ("choices" or "usage" or "object"))
            {
                chunk[name] = value?.DeepClone();
            }
        }

        chunk["object"] = "chat.completion.chunk";
        chunk["choices"] = choices;
        if (usage is not null)
        {
            chunk["usage"] = usage;
        }

        return chunk;
    }

    private static void Append(StringBuilder events, JsonObject chunk) =>
        events.Append("data: ").Append(chunk.ToJsonString()).Append("\n\n");
}
