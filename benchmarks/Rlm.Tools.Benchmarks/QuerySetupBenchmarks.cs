using BenchmarkDotNet.Attributes;
using Rlm.Tools.Benchmarks.Support;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// The fixed cost of one <see cref="RecursiveLanguageModel.QueryAsync(string, string, CancellationToken)"/>: a scripted root
/// that calls <c>final</c> at once, so what is measured is the run's setup (context indexing: the line index, the
/// dispatcher, the session's tools and prompts) and one model round trip of negligible model time.
/// </summary>
/// <remarks>
/// Allocated should be about the line index (4 bytes per line; the haystack's lines average ~110 characters, so
/// ~0.036 bytes per character) plus a constant, never a copy of the context (2 bytes per character). The documents
/// variant joins 100 documents into one string, so it must copy the text once (and no more).
/// </remarks>
[MemoryDiagnoser]
[ExceptionDiagnoser]
[MaxWarmupCount(10)]
[MaxIterationCount(30)]
public class QuerySetupBenchmarks
{
    private const string Query = "Where is the needle?";

    private string _context = string.Empty;
    private RlmDocument[] _documents = [];
    private RecursiveLanguageModel _rlm = null!;

    /// <summary>The context's length in characters.</summary>
    [Params(1_000, 1_000_000, 10_000_000, 100_000_000)]
    public int Chars { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _context = Haystack.Create(Chars);
        _documents = Haystack.Split(_context, 100);
        var client = new ScriptedRootClient();
        _rlm = new RecursiveLanguageModel(client, new InstantWorkerClient());
        var (result, _) = Check.RunOnce(_rlm, client, Query, _context);
        Check.That(result.Answer == "done" && result.Statistics.ModelCalls == 1, "the scripted root should answer at once.");
    }

    [Benchmark(Baseline = true)]
    public Task<RlmResult> FinalAtOnce() => _rlm.QueryAsync(Query, _context);

    [Benchmark]
    public Task<RlmResult> FinalAtOnce_100Documents() => _rlm.QueryAsync(Query, _documents);
}
