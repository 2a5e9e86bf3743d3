using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Rlm.Tools.Context;

namespace Rlm.Tools.Orchestration;

/// <summary>
/// The second level of the sub-call memo: answers kept in <see cref="RlmOptions.SubCallCache"/>, shared by the queries of
/// a host and, over a distributed cache, by replicas. Keys are content hashes, so hosts with the same context and question
/// share answers while no text is ever part of a key. A cache that fails is logged and read as a miss (or a lost write):
/// the run goes on without it.
/// </summary>
internal sealed class SharedSubCallMemo
{
    private const string KeyPrefix = "rlm:subcall:v1:";

    // HybridCache has no TryGet: a lookup whose factory answers null, with both writes off, reads without storing a miss.
    private static readonly HybridCacheEntryOptions s_lookup = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite,
    };

    private readonly HybridCache _cache;
    private readonly ILogger _logger;

    public SharedSubCallMemo(HybridCache cache, ILogger logger)
    {
        _cache = cache;
        _logger = logger;
    }

    /// <summary>
    /// The cache key of a sub-call: SHA-256 over the worker's name and model id, the depth and the depths left below it,
    /// the system prompt it would get, the query and the slice's text (each length-prefixed, so no two field lists collide).
    /// </summary>
    public static string Key(RlmOptions options, SubCallKey key, string query, ReadOnlySpan<char> slice, bool hasSlice)
    {
        bool leaf = !hasSlice || key.Depth >= options.MaxDepth;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, key.Worker);
        Append(hash, key.Model);
        Append(hash, key.Depth);
        Append(hash, options.MaxDepth - key.Depth);
        Append(hash, leaf ? options.LeafSystemPrompt ?? RlmPrompts.Leaf : options.WorkerSystemPrompt ?? RlmPrompts.Worker);
        Append(hash, query);
        Append(hash, hasSlice ? 1 : 0);
        Append(hash, slice);
        return KeyPrefix + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Looks an answer up; <see langword="null"/> on a miss or when the cache fails.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async Task<string?> TryGetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            string? answer = await _cache.GetOrCreateAsync<string?>(key, static _ => ValueTask.FromResult<string?>(null), s_lookup, cancellationToken: cancellationToken).ConfigureAwait(false);
            return string.IsNullOrEmpty(answer) ? null : answer;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            RlmLog.SubCallCacheFailed(_logger, "read", e.GetType().Name, TextLimits.OneLine(e.Message, 200));
            return null;
        }
    }

    /// <summary>Stores a successful answer; a failing cache only loses it.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async Task StoreAsync(string key, string answer, CancellationToken cancellationToken)
    {
        try
        {
            await _cache.SetAsync(key, answer, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            RlmLog.SubCallCacheFailed(_logger, "write", e.GetType().Name, TextLimits.OneLine(e.Message, 200));
        }
    }

    private static void Append(IncrementalHash hash, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        hash.AppendData(bytes);
    }

    private static void Append(IncrementalHash hash, string? text)
    {
        if (text is null)
        {
            Append(hash, -1);
            return;
        }

        Append(hash, text.AsSpan());
    }

    private static void Append(IncrementalHash hash, ReadOnlySpan<char> text)
    {
        Append(hash, text.Length);
        hash.AppendData(MemoryMarshal.AsBytes(text));
    }
}
