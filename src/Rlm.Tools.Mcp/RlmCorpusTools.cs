using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Rlm.Tools.Context;

namespace Rlm.Tools.Mcp;

/// <summary>
/// The two tools of the server, bound to one corpus loaded at start-up: <c>query</c> (the server's one
/// <see cref="RecursiveLanguageModel"/> as <see cref="RecursiveLanguageModel.AsAIFunction(RlmCorpus, RlmCorpusToolOptions)"/>, one run per call, with
/// progress and cancellation; this class adds the MCP answer text, the one-line error results and the log lines) and
/// <c>list_documents</c>.
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
    private readonly SecretRedactor _redactor;
    private readonly string _listing;
    private IReadOnlyList<McpServerTool>? _tools;
    private int _queryIds;

    /// <summary>Creates the tools; <paramref name="rlm"/> answers every query (its logs go to <paramref name="loggerFactory"/> unless it has its own).</summary>
    public RlmCorpusTools(RecursiveLanguageModel rlm, RlmCorpus corpus, RlmMcpServerOptions options, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("Rlm.Tools.Mcp");
        if (rlm.Options.LoggerFactory is null)
        {
            // The engine's logs go where the server's go (stderr); built once, the one model of this server.
            var withLogs = rlm.Options.Clone();
            withLogs.LoggerFactory = loggerFactory;
            rlm = new RecursiveLanguageModel(rlm.RootClient, rlm.WorkerClient, withLogs);
        }

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

    /// <summary>Gets the MCP tools bound to this instance, created once.</summary>
    public IReadOnlyList<McpServerTool> Tools => LazyInitializer.EnsureInitialized(ref _tools, () => [.. CreateTools()]);

    private IEnumerable<McpServerTool> CreateTools()
    {
        string description = $"Answer a question about the served corpus ({Summary}) with a Recursive Language Model: it explores " +
                             "the whole corpus with search tools and sub-calls instead of reading it into one prompt. The answer cites " +
                             "its sources as document:line. Ask one self-contained question; the corpus is fixed by the server.";
        var limits = _options.Query;
        description += " " + limits.Describe(limits.ApplyDefaults(_rlm.Options));
        var queryOptions = new RlmCorpusToolOptions
        {
            Name = QueryToolName,
            Description = description,
            MaxQuestionChars = limits.MaxQuestionChars,
            DefaultMaxWallTime = limits.DefaultMaxWallTime,
            DefaultMaxTotalTokens = limits.DefaultMaxTotalTokens,
            QueryLimiter = limits.QueryLimiter,
        };
        yield return McpServerTool.Create(new QueryFunction(_rlm.AsAIFunction(_corpus, queryOptions), this), new McpServerToolCreateOptions
        {
            Name = QueryToolName,
            Title = "Ask the corpus",
            Description = description,
            ReadOnly = true,
            Destructive = false,
            OpenWorld = false,
        });
        yield return McpServerTool.Create(ListDocuments, new McpServerToolCreateOptions
        {
            Name = ListDocumentsToolName,
            Title = "List the corpus documents",
            Description = $"List the documents of the served corpus ({Summary}): one line each with its name, lines and characters; " +
                          "then the paths left out when the directory was loaded, each with a reason code (symlink, hidden, ignored, " +
                          "special_file, binary, empty, unreadable, cycle, too_large, compressed).",
            ReadOnly = true,
            Destructive = false,
            Idempotent = true,
            OpenWorld = false,
        });
    }

    /// <summary>The <c>list_documents</c> tool.</summary>
    public string ListDocuments() => _listing;

    /// <summary>
    /// One call of the <c>query</c> tool: the client's progress (when the request has a progress token) is handed to
    /// <paramref name="query"/> as its per-call <see cref="IProgress{T}"/> of <see cref="RlmEvent"/>; errors become a one-line
    /// error result; cancellation ends the run.
    /// </summary>
    private async ValueTask<object?> InvokeQueryAsync(AIFunction query, AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        int id = Interlocked.Increment(ref _queryIds);
        string question = arguments.TryGetValue("question", out var value) ? value switch
        {
            JsonElement { ValueKind: JsonValueKind.String } json => json.GetString() ?? string.Empty,
            string text => text,
            _ => string.Empty,
        } : string.Empty;

        if (arguments.Services is { } services
            && services.GetService(typeof(RequestContext<CallToolRequestParams>)) is RequestContext<CallToolRequestParams> { Params.ProgressToken: not null }
            && services.GetService(typeof(IProgress<ProgressNotificationValue>)) is IProgress<ProgressNotificationValue> progress)
        {
            arguments.Services = new RunServices(new McpProgressAdapter(progress), services);
        }

        var stopwatch = Stopwatch.StartNew();
        LogQueryStarted(_logger, id, question.Length);
        LogQueryText(_logger, id, question);
        if (ToolArgumentCheck.Problem(query.JsonSchema, arguments) is { } problem)
        {
            LogQueryFailed(_logger, id, stopwatch.Elapsed.TotalSeconds, problem);
            return Error(problem);
        }

        try
        {
            var answer = await query.InvokeAsync(arguments, cancellationToken).ConfigureAwait(false) switch
            {
                RlmToolAnswer typed => typed,
                JsonElement json => json.Deserialize((JsonTypeInfo<RlmToolAnswer>)query.JsonSerializerOptions.GetTypeInfo(typeof(RlmToolAnswer))),
                var other => throw new InvalidOperationException($"The query function returned {other?.GetType().Name ?? "null"}."),
            } ?? throw new InvalidOperationException("The query function returned no answer.");
            var stopReason = RlmStopReasonText.TryParse(answer.StopReason, out var reason) ? reason : RlmStopReason.TextReply;
            LogQueryAnswered(_logger, id, stopwatch.Elapsed.TotalSeconds, stopReason, answer.ModelCalls, answer.SubCalls);
            return new CallToolResult { Content = [new TextContentBlock { Text = FormatAnswer(answer, stopReason) }] };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogQueryCanceled(_logger, id, stopwatch.Elapsed.TotalSeconds);
            throw;
        }
        catch (Exception e)
        {
            string message = _redactor.Redact(TextLimits.OneLine(e switch
            {
                RlmModelException => $"the model endpoint failed: {e.Message}",
                ArgumentException => e.Message, // the caller's arguments: an empty or overlong question, a filter no document matches
                JsonException => "The arguments could not be read: send question (and documents) as JSON strings.",
                RlmServerBusyException => e.Message,
                _ => _options.DescribeError?.Invoke(e) ?? $"{e.GetType().Name}: {e.Message}",
            }, int.MaxValue));
            LogQueryFailed(_logger, id, stopwatch.Elapsed.TotalSeconds, message);
            return Error(message);
        }
    }

    /// <summary>The answer, a note when the run did not end with a final answer, and the documents the answer names.</summary>
    internal string FormatAnswer(RlmToolAnswer result, RlmStopReason stopReason)
    {
        var text = new StringBuilder(result.Answer.TrimEnd());
        if (!result.IsFinal && result.Answer.Length == 0)
        {
            // No answer at all (a budget stop before any reply text): the note is the whole reply.
            text.Append($"(Note: {RlmStopReasonText.DescribeStop(stopReason, hasAnswer: false) ?? "no answer."})");
        }
        else if (!result.IsFinal)
        {
            text.Append($"\n\n(Note: {RlmStopReasonText.DescribeNoFinalAnswer(stopReason) ?? "no final answer"}.)");
        }
        else if (result.SubCalls > 0 && result.FailedSubCalls >= result.SubCalls)
        {
            text.Append(Invariant($"\n\n(Note: every sub-call failed ({result.FailedSubCalls} of {result.SubCalls}); the answer rests on no worker result.)"));
        }

        // The host's check of the citations, so the calling agent knows which of them to trust.
        if (result.Citations.Count > 0)
        {
            int verified = result.Citations.Count(c => c.Verified);
            text.Append(Invariant($"\n\nCitations verified: {verified} of {result.Citations.Count}"));
            foreach (var c in result.Citations.Where(c => !c.Verified))
            {
                text.Append("\n- unverified ").Append(c.Text).Append(": ").Append(c.Reason);
            }
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

        // What the directory walk left out, so that a client can tell "not there" from "left out" (at most 50 paths per reason).
        if (_corpus.SkippedCounts.Count > 0)
        {
            text.Append("\n\nSkipped when loading: ").Append(SkipLog.Summary(_corpus.SkippedCounts)).Append(':');
            foreach (var skip in _corpus.Skipped)
            {
                text.Append('\n').Append(skip.Path).Append('\t').Append(SkipLog.Code(skip.Reason)).Append('\t').Append(skip.Detail);
            }

            int unlisted = _corpus.SkippedCounts.Values.Sum() - _corpus.Skipped.Count;
            if (unlisted > 0)
            {
                text.Append('\n').Append(Invariant($"… {unlisted:N0} more not listed"));
            }
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

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // One line per query at Information (answered, canceled) or Warning (failed); the rest at Debug (--verbose).
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "query {Id} started ({Chars} characters)")]
    private static partial void LogQueryStarted(ILogger logger, int id, int chars);

    [LoggerMessage(EventId = 2, Level = LogLevel.Trace, Message = "query {Id}: {Question}")]
    private static partial void LogQueryText(ILogger logger, int id, string question);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "query {Id} answered in {Seconds:F2} s ({StopReason}, {ModelCalls} model calls, {SubCalls} sub-calls)")]
    private static partial void LogQueryAnswered(ILogger logger, int id, double seconds, RlmStopReason stopReason, int modelCalls, int subCalls);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "query {Id} canceled by the client after {Seconds:F2} s")]
    private static partial void LogQueryCanceled(ILogger logger, int id, double seconds);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "query {Id} failed after {Seconds:F2} s: {Message}")]
    private static partial void LogQueryFailed(ILogger logger, int id, double seconds, string message);

    /// <summary>The query function with the MCP handling of <see cref="InvokeQueryAsync"/> around it; its schema, name and description are the inner one's.</summary>
    private sealed class QueryFunction(AIFunction query, RlmCorpusTools tools) : DelegatingAIFunction(query)
    {
        protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
            tools.InvokeQueryAsync(InnerFunction, arguments, cancellationToken);
    }

    /// <summary>The request's services plus the run's <see cref="IProgress{T}"/> of <see cref="RlmEvent"/>.</summary>
    private sealed class RunServices(IProgress<RlmEvent> progress, IServiceProvider inner) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IProgress<RlmEvent>) ? progress : inner.GetService(serviceType);
    }
}
