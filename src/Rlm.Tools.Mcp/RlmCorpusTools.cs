using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Rlm.Tools.Mcp;

/// <summary>
/// The two tools of the server, bound to one corpus loaded at start-up: <c>query</c> (a Recursive Language Model run per
/// call, with progress and cancellation) and <c>list_documents</c>.
/// </summary>
internal sealed partial class RlmCorpusTools
{
    /// <summary>The name of the question tool.</summary>
    public const string QueryToolName = "query";

    /// <summary>The name of the listing tool.</summary>
    public const string ListDocumentsToolName = "list_documents";

    private readonly RecursiveLanguageModel _rlm;
    private readonly RlmCorpus _corpus;
    private readonly IReadOnlyList<RlmDocument> _documents;
    private readonly RlmMcpServerOptions _options;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggerFactory;
    private readonly SecretRedactor _redactor;
    private readonly string _listing;
    private int _queryIds;

    public RlmCorpusTools(RecursiveLanguageModel rlm, RlmCorpus corpus, RlmMcpServerOptions options, ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory;
        var logger = loggerFactory.CreateLogger("Rlm.Tools.Mcp");
        _rlm = rlm;
        _corpus = corpus;
        _documents = corpus.Documents;
        _options = options;
        _logger = logger;
        _redactor = new SecretRedactor(rlm.Options.RedactedValues);
        Lines = _documents.Count > 0 ? _documents.Sum(d => CountLines(d.Text)) : corpus.LineCount;
        Chars = _documents.Count > 0 ? _documents.Sum(d => (long)d.Text.Length) : corpus.Length;
        _listing = BuildListing();
    }

    /// <summary>Gets the lines of the corpus.</summary>
    public long Lines { get; }

    /// <summary>Gets the characters of the corpus.</summary>
    public long Chars { get; }

    /// <summary>Gets a one-line summary of the corpus: documents, lines, characters and source.</summary>
    public string Summary => Invariant($"{(_documents.Count == 0 ? "one unnamed text" : $"{_documents.Count:N0} document{(_documents.Count == 1 ? "" : "s")}")}, {Lines:N0} lines, {Chars:N0} characters")
        + (_options.CorpusDescription is { Length: > 0 } source ? $"; {source}" : string.Empty);

    /// <summary>Creates the MCP tools bound to this instance.</summary>
    public IEnumerable<McpServerTool> CreateTools()
    {
        yield return McpServerTool.Create(QueryAsync, new McpServerToolCreateOptions
        {
            Name = QueryToolName,
            Title = "Ask the corpus",
            Description = $"Answer a question about the served corpus ({Summary}) with a Recursive Language Model: it explores " +
                          "the whole corpus with search tools and sub-calls instead of reading it into one prompt. The answer cites " +
                          "its sources as document:line. Ask one self-contained question; the corpus is fixed by the server.",
            ReadOnly = true,
            Destructive = false,
            OpenWorld = false,
        });
        yield return McpServerTool.Create(ListDocuments, new McpServerToolCreateOptions
        {
            Name = ListDocumentsToolName,
            Title = "List the corpus documents",
            Description = $"List the documents of the served corpus ({Summary}): one line each with its name, lines and characters.",
            ReadOnly = true,
            Destructive = false,
            Idempotent = true,
            OpenWorld = false,
        });
    }

    /// <summary>The <c>list_documents</c> tool.</summary>
    public string ListDocuments() => _listing;

    /// <summary>The <c>query</c> tool: one run per call; errors become a one-line error result, cancellation ends the run.</summary>
    public async Task<CallToolResult> QueryAsync(
        [Description("The question to answer from the corpus, in natural language.")] string question,
        IProgress<ProgressNotificationValue> progress,
        CancellationToken cancellationToken)
    {
        int id = Interlocked.Increment(ref _queryIds);
        if (string.IsNullOrWhiteSpace(question))
        {
            return Error("the question is empty");
        }

        var options = _rlm.Options.Clone();
        options.Progress = new McpProgressAdapter(progress, options.Progress);
        options.LoggerFactory ??= _loggerFactory; // the engine's logs go where the server's go: stderr
        var rlm = new RecursiveLanguageModel(_rlm.RootClient, _rlm.WorkerClient, options);
        var stopwatch = Stopwatch.StartNew();
        LogQueryStarted(_logger, id, question.Length);
        LogQueryText(_logger, id, question);
        try
        {
            var result = await rlm.QueryAsync(question.Trim(), _corpus, cancellationToken).ConfigureAwait(false);
            LogQueryAnswered(_logger, id, stopwatch.Elapsed.TotalSeconds, result.StopReason, result.Statistics.Iterations, result.Statistics.SubCalls);
            return new CallToolResult { Content = [new TextContentBlock { Text = FormatAnswer(result) }] };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogQueryCanceled(_logger, id, stopwatch.Elapsed.TotalSeconds);
            throw;
        }
        catch (Exception e)
        {
            string message = _redactor.Redact(OneLine(e is RlmModelException
                ? $"the model endpoint failed: {e.Message}"
                : _options.DescribeError?.Invoke(e) ?? $"{e.GetType().Name}: {e.Message}"));
            LogQueryFailed(_logger, id, stopwatch.Elapsed.TotalSeconds, message);
            return Error(message);
        }
    }

    /// <summary>The answer, a note when the run did not end with a final answer, and the documents the answer names.</summary>
    internal string FormatAnswer(RlmResult result)
    {
        var text = new StringBuilder(result.Answer.TrimEnd());
        if (!result.IsFinal)
        {
            text.Append($"\n\n(Note: {RlmStopReasonText.DescribeNoFinalAnswer(result.StopReason) ?? "no final answer"}.)");
        }
        else if (result.AllSubCallsFailed)
        {
            text.Append(Invariant($"\n\n(Note: every sub-call failed ({result.Statistics.FailedSubCalls} of {result.Statistics.SubCalls}); the answer rests on no worker result.)"));
        }

        var cited = _documents.Where(d => result.Answer.Contains(d.Name, StringComparison.Ordinal)).Select(d => d.Name).ToList();
        if (cited.Count > 0)
        {
            text.Append("\n\nDocuments cited: ").AppendJoin(", ", cited);
        }

        return text.ToString();
    }

    private static CallToolResult Error(string message) =>
        new() { IsError = true, Content = [new TextContentBlock { Text = message }] };

    private string BuildListing()
    {
        var text = new StringBuilder();
        text.Append(Summary).Append(':');
        foreach (var document in _documents)
        {
            text.Append('\n').Append(Invariant($"{document.Name}\t{CountLines(document.Text):N0} lines\t{document.Text.Length:N0} chars"));
        }

        return text.ToString();
    }

    private static long CountLines(string text)
    {
        if (text.Length == 0)
        {
            return 0;
        }

        long lines = text.AsSpan().Count('\n');
        return text[^1] == '\n' ? lines : lines + 1;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "query {Id} started ({Chars} characters)")]
    private static partial void LogQueryStarted(ILogger logger, int id, int chars);

    [LoggerMessage(EventId = 2, Level = LogLevel.Trace, Message = "query {Id}: {Question}")]
    private static partial void LogQueryText(ILogger logger, int id, string question);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "query {Id} answered in {Seconds:F2} s ({StopReason}, {Iterations} iterations, {SubCalls} sub-calls)")]
    private static partial void LogQueryAnswered(ILogger logger, int id, double seconds, RlmStopReason stopReason, int iterations, int subCalls);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "query {Id} canceled by the client after {Seconds:F2} s")]
    private static partial void LogQueryCanceled(ILogger logger, int id, double seconds);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "query {Id} failed after {Seconds:F2} s: {Message}")]
    private static partial void LogQueryFailed(ILogger logger, int id, double seconds, string message);
}
