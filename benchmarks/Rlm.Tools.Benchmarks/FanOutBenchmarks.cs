using BenchmarkDotNet.Attributes;
using Rlm.Tools.Benchmarks.Support;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// Sub-call fan-out: a scripted root issues 32 <c>sub_llm</c> calls in one reply (they run in parallel) over consecutive
/// slices of a 1,000,000-character context; a worker that answers at once leaves only the engine's cost: the dispatcher
/// (<see cref="RlmOptions.MaxConcurrency"/> 8), the leaf prompt each sub-call builds (it copies its slice), tracing and
/// the 32 results in the conversation. (row − <see cref="FinalOnly"/>) / 32 is the overhead per sub-call.
/// </summary>
[MemoryDiagnoser]
[ExceptionDiagnoser]
[MaxWarmupCount(10)]
[MaxIterationCount(30)]
public class FanOutBenchmarks
{
    private const int ContextChars = 1_000_000;
    private const int SubCalls = 32;
    private const string Query = "Which services report errors?";

    private string _context = string.Empty;
    private RecursiveLanguageModel _finalOnly = null!;
    private RecursiveLanguageModel _fanOut = null!;

    /// <summary>The characters of each slice: 1,000 (dispatcher overhead), 31,250 (32 slices cover the whole context).</summary>
    [Params(1_000, 31_250)]
    public int SliceChars { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _context = Haystack.Create(ContextChars);
        var options = new RlmOptions { MaxConcurrency = 8 };
        _finalOnly = new RecursiveLanguageModel(new ScriptedRootClient(), new InstantWorkerClient(), options);

        int stride = ContextChars / SubCalls;
        var calls = Enumerable.Range(0, SubCalls)
            .Select(i => ScriptedCall.Of("sub_llm", ("query", "Which services report ERROR lines in this slice?"), ("start", i * stride), ("end", i * stride + SliceChars)))
            .ToArray();
        var client = new ScriptedRootClient(calls);
        _fanOut = new RecursiveLanguageModel(client, new InstantWorkerClient(), options);

        var (result, results) = Check.RunOnce(_fanOut, client, Query, _context);
        Check.That(result.Statistics.SubCalls == SubCalls && result.Statistics.FailedSubCalls == 0, $"expected {SubCalls} sub-calls, got {result.Statistics.SubCalls} ({result.Statistics.FailedSubCalls} failed).");
        Check.That(results.Count == SubCalls && results.All(r => r == "ok"), "every sub-call should answer \"ok\".");
    }

    [Benchmark(Baseline = true)]
    public Task<RlmResult> FinalOnly() => _finalOnly.QueryAsync(Query, _context);

    [Benchmark]
    public Task<RlmResult> SubLlm_32Parallel() => _fanOut.QueryAsync(Query, _context);
}
