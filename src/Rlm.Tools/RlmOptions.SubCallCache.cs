using Microsoft.Extensions.Caching.Hybrid;

namespace Rlm.Tools;

/// <summary>The shared memo of sub-call answers of <see cref="RlmOptions"/> (kept apart: one concern, one file).</summary>
public sealed partial class RlmOptions
{
    /// <summary>
    /// Gets or sets a cache of sub-call answers shared beyond one run: by every query of a host and, over a distributed
    /// second level (Redis, through <c>AddHybridCache</c> over an <c>IDistributedCache</c>), by every replica. Used only
    /// while <see cref="MemoizeSubCalls"/> is on: before a sub-call is sent, its answer is looked up under a key that
    /// hashes (SHA-256) the worker's name and model id, the depth and the depths left, the query text and the slice's text
    /// (never the raw text in the key), so hosts with the same context share answers; a hit sends no request and is
    /// reported like an in-run memo hit (<see cref="RlmStatistics.MemoizedSubCalls"/>, the <see cref="RlmSubCallMemoized"/>
    /// event). Only successful answers are stored, with the cache's own default entry options (lifetime). The in-run memo
    /// stays in front of it. A cache that throws never fails a run: the failure is logged and the sub-call runs as without it.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: answers are memoized within one run only. The cache is shared, not
    /// owned: the caller disposes it. Set in code; it is not read from configuration.
    /// </value>
    public HybridCache? SubCallCache { get; set; }
}
