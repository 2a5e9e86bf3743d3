using BenchmarkDotNet.Attributes;
using Rlm.Tools.Benchmarks.Support;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// The built-in <see cref="OfflineChatClient"/> end to end (root and worker) on a 10,000,000-character haystack with one
/// needle: peek_lines, one grep per keyword, chunk, parallel sub_llm leaves over the chunks that hold the best hits, final.
/// This is what <c>rlm</c> does without an endpoint, so its time is the floor of any real run's engine time.
/// </summary>
[MemoryDiagnoser]
[ExceptionDiagnoser]
[MaxWarmupCount(10)]
[MaxIterationCount(30)]
public class OfflineEndToEndBenchmarks
{
    private string _context = string.Empty;
    private RecursiveLanguageModel _rlm = null!;

    /// <summary>The haystack's length in characters.</summary>
    [Params(10_000_000)]
    public int Chars { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _context = Haystack.Create(Chars);
        var model = new OfflineChatClient();
        _rlm = new RecursiveLanguageModel(model, model);
        var result = _rlm.QueryAsync(Haystack.NeedleQuestion, _context).GetAwaiter().GetResult();
        Check.That(result.IsFinal && result.Answer.Contains(Haystack.NeedleValue, StringComparison.Ordinal), $"the offline model should find the needle: {Check.Head(result.Answer)}");
    }

    [Benchmark]
    public Task<RlmResult> NeedleInHaystack() => _rlm.QueryAsync(Haystack.NeedleQuestion, _context);
}
