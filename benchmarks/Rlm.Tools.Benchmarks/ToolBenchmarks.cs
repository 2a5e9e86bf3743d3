using BenchmarkDotNet.Attributes;
using Rlm.Tools.Benchmarks.Support;

namespace Rlm.Tools.Benchmarks;

/// <summary>
/// One tool through the real loop: a scripted root issues one call (iteration 1), then <c>final</c> (iteration 2). Model
/// time is negligible, so a row minus <see cref="FinalOnly"/> (the baseline: the same run without the tool) is the tool's
/// cost, including formatting its result and carrying it in the conversation.
/// </summary>
[MemoryDiagnoser]
[ExceptionDiagnoser]
[MaxWarmupCount(10)]
[MaxIterationCount(30)]
public class ToolBenchmarks
{
    private const string Query = "Where is the needle?";

    private string _context = string.Empty;
    private RecursiveLanguageModel _finalOnly = null!;
    private RecursiveLanguageModel _rlm = null!;

    /// <summary>The context's length in characters.</summary>
    [Params(1_000_000, 10_000_000, 100_000_000)]
    public int Chars { get; set; }

    [GlobalSetup(Target = nameof(FinalOnly))]
    public void SetupFinalOnly() => Build();

    /// <summary>grep of a literal that matches only the needle line (case-insensitive, the tool's default).</summary>
    [GlobalSetup(Target = nameof(GrepLiteral_Needle))]
    public void SetupGrepLiteralNeedle()
    {
        var results = Build(ScriptedCall.Of("grep", ("pattern", Haystack.NeedleLiteral)));
        Check.That(results[0].StartsWith("1 matching line ", StringComparison.Ordinal) && results[0].Contains(Haystack.NeedleValue, StringComparison.Ordinal), $"grep should find the needle once: {Check.Head(results[0])}");
    }

    /// <summary>grep of a literal on ~2 % of the lines: every hit is counted, the first 50 are shown.</summary>
    [GlobalSetup(Target = nameof(GrepLiteral_Common))]
    public void SetupGrepLiteralCommon()
    {
        var results = Build(ScriptedCall.Of("grep", ("pattern", Haystack.CommonLiteral)));
        Check.That(results[0].Contains("matching lines for", StringComparison.Ordinal) && results[0].Contains("showing the first 50", StringComparison.Ordinal), $"grep should find many lines: {Check.Head(results[0])}");
    }

    /// <summary>grep of a regular expression with no literal prefix, matching only the needle line.</summary>
    [GlobalSetup(Target = nameof(GrepRegex_Needle))]
    public void SetupGrepRegexNeedle()
    {
        var results = Build(ScriptedCall.Of("grep", ("pattern", Haystack.NeedleRegex)));
        Check.That(results[0].StartsWith("1 matching line ", StringComparison.Ordinal) && results[0].Contains(Haystack.NeedleValue, StringComparison.Ordinal), $"grep should find the needle once: {Check.Head(results[0])}");
    }

    /// <summary>chunk with chunk_size 100,000 over the whole context.</summary>
    [GlobalSetup(Target = nameof(Chunk_100k))]
    public void SetupChunk()
    {
        var results = Build(ScriptedCall.Of("chunk", ("chunk_size", 100_000)));
        Check.That(results[0].Contains(" chunks of at most 100,000 characters", StringComparison.Ordinal), $"chunk should split the context: {Check.Head(results[0])}");
    }

    /// <summary>peek_lines of 1,000 lines in the middle of the context.</summary>
    [GlobalSetup(Target = nameof(PeekLines_1000Middle))]
    public void SetupPeekLines()
    {
        _context = Haystack.Create(Chars);
        int middle = Haystack.LineCount(_context) / 2;
        var results = Build(ScriptedCall.Of("peek_lines", ("start", middle - 500), ("end", middle + 500)));
        Check.That(results[0].StartsWith($"[lines {middle - 500:N0}–{middle + 500:N0} of ", StringComparison.Ordinal), $"peek_lines should read the middle: {Check.Head(results[0])}");
    }

    [Benchmark(Baseline = true)]
    public Task<RlmResult> FinalOnly() => _finalOnly.QueryAsync(Query, _context);

    [Benchmark]
    public Task<RlmResult> GrepLiteral_Needle() => _rlm.QueryAsync(Query, _context);

    [Benchmark]
    public Task<RlmResult> GrepLiteral_Common() => _rlm.QueryAsync(Query, _context);

    [Benchmark]
    public Task<RlmResult> GrepRegex_Needle() => _rlm.QueryAsync(Query, _context);

    [Benchmark]
    public Task<RlmResult> Chunk_100k() => _rlm.QueryAsync(Query, _context);

    [Benchmark]
    public Task<RlmResult> PeekLines_1000Middle() => _rlm.QueryAsync(Query, _context);

    /// <summary>Builds the context (once), the final-only model and, for a tool benchmark, the model whose root makes <paramref name="call"/>; runs it once and returns the tool's results.</summary>
    private List<string> Build(ScriptedCall? call = null)
    {
        if (_context.Length != Chars)
        {
            _context = Haystack.Create(Chars);
        }

        _finalOnly = new RecursiveLanguageModel(new ScriptedRootClient(), new InstantWorkerClient());
        if (call is null)
        {
            return [];
        }

        var client = new ScriptedRootClient([call]); // a plan of one step: the call
        _rlm = new RecursiveLanguageModel(client, new InstantWorkerClient());
        var (result, results) = Check.RunOnce(_rlm, client, Query, _context);
        Check.That(result.Statistics.ToolCalls.GetValueOrDefault(call.Name) == 1 && results.Count == 1, $"expected one {call.Name} then final.");
        return results;
    }
}
