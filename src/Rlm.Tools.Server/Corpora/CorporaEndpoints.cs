using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rlm.Tools.Server.OpenAI;
using Rlm.Tools.Server.State;

namespace Rlm.Tools.Server.Corpora;

/// <summary>
/// The corpora API: <c>POST /v1/corpora</c> stores documents (JSON <c>{"documents":[{"name","text"}]}</c>, or any other body
/// as one text document named by <c>?name=</c>, default <c>document.txt</c>) and answers 201 with the new id;
/// <c>GET /v1/corpora/{id}/documents</c> lists them; <c>POST /v1/corpora/{id}/query</c> asks a question as a turn of a
/// conversation (a new one without <c>conversation_id</c>), kept in <see cref="IConversationStore"/> so any replica continues
/// it. With <c>?stream=true</c> the run's events are server-sent events (<c>event: iteration_started</c>, ...) ending with
/// <c>event: result</c>. The corpus loaded at start is <c>default</c>.
/// </summary>
internal sealed class CorporaEndpoints(ServedModel model, ICorpusStore corpora, IConversationStore conversations, RlmServerOptions options, RunFailures failures, QueryLog log)
{
    /// <summary>The name of a document uploaded as a plain body without <c>?name=</c>.</summary>
    public const string DefaultDocumentName = "document.txt";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/corpora", (HttpContext context, CorporaEndpoints endpoints) => endpoints.UploadAsync(context));
        app.MapGet("/v1/corpora/{id}/documents", (HttpContext context, string id, CorporaEndpoints endpoints) => endpoints.DocumentsAsync(context, id));
        app.MapPost("/v1/corpora/{id}/query", (HttpContext context, string id, CorporaEndpoints endpoints) => endpoints.QueryAsync(context, id));
    }

    private async Task UploadAsync(HttpContext context)
    {
        var documents = await ReadDocumentsAsync(context).ConfigureAwait(false);
        if (documents is null)
        {
            return; // the error is written
        }

        try
        {
            var info = await corpora.AddAsync(documents, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = StatusCodes.Status201Created;
            context.Response.Headers.Location = $"/v1/corpora/{info.Id}/documents";
            await context.Response.WriteAsJsonAsync(new CorpusCreated(info.Id, info.Documents.Count, info.Characters), ServerJson.Wire.CorpusCreated, contentType: null, context.RequestAborted).ConfigureAwait(false);
        }
        catch (CorpusTooLargeException e)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, e.Message, "invalid_request_error", "corpus_too_large").ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            await ApiErrors.BadRequestAsync(context, FirstSentence(e.Message), "documents").ConfigureAwait(false);
        }
    }

    private async Task<List<RlmDocument>?> ReadDocumentsAsync(HttpContext context)
    {
        if (context.Request.HasJsonContentType())
        {
            var upload = await ServerJson.ReadAsync(context, ServerJson.Wire.CorpusUpload).ConfigureAwait(false);
            if (upload is null)
            {
                return null;
            }

            if (upload.Documents is not { Count: > 0 })
            {
                await ApiErrors.BadRequestAsync(context, "documents must hold at least one document: {\"documents\":[{\"name\":\"a.txt\",\"text\":\"...\"}]}", "documents").ConfigureAwait(false);
                return null;
            }

            var documents = new List<RlmDocument>(upload.Documents.Count);
            for (int i = 0; i < upload.Documents.Count; i++)
            {
                if (upload.Documents[i] is not { Name: { } name, Text: { } text } || string.IsNullOrWhiteSpace(name))
                {
                    await ApiErrors.BadRequestAsync(context, $"documents[{i}] needs a non-empty name and a text", $"documents[{i}]").ConfigureAwait(false);
                    return null;
                }

                if (HasLineBreak(name))
                {
                    await ApiErrors.BadRequestAsync(context, $"documents[{i}].name holds a line break; a document name is one line", $"documents[{i}].name").ConfigureAwait(false);
                    return null;
                }

                documents.Add(new RlmDocument(name, text));
            }

            return documents;
        }

        string body;
        try
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await ApiErrors.TooLargeAsync(context, options.MaxRequestBytes).ConfigureAwait(false);
            return null;
        }

        if (body.Length == 0)
        {
            await ApiErrors.BadRequestAsync(context, "the body is empty: send the text (text/plain) or JSON {\"documents\":[{\"name\",\"text\"}]}").ConfigureAwait(false);
            return null;
        }

        string documentName = context.Request.Query["name"].ToString() is { Length: > 0 } given ? given : DefaultDocumentName;
        if (string.IsNullOrWhiteSpace(documentName) || HasLineBreak(documentName))
        {
            await ApiErrors.BadRequestAsync(context, "name must be one line of text", "name").ConfigureAwait(false);
            return null;
        }

        return [new RlmDocument(documentName, body)];
    }

    /// <summary>Whether a document name breaks the one-line rule of <see cref="RlmDocument"/> (checked here to answer 400, not fail).</summary>
    private static bool HasLineBreak(string name) => name.AsSpan().IndexOfAny('\r', '\n') >= 0;

    private async Task DocumentsAsync(HttpContext context, string id)
    {
        if (await corpora.GetInfoAsync(id, context.RequestAborted).ConfigureAwait(false) is not { } info)
        {
            await ApiErrors.NotFoundAsync(context, $"no corpus with the id '{id}'", "id").ConfigureAwait(false);
            return;
        }

        await context.Response.WriteAsJsonAsync(new CorpusDocuments(info.Id, [.. info.Documents.Select(d => new DocumentEntry(d.Name, d.Characters))], info.Characters), ServerJson.Wire.CorpusDocuments, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task QueryAsync(HttpContext context, string id)
    {
        const string route = "/v1/corpora/{id}/query";
        long started = Stopwatch.GetTimestamp();
        string client = RequestGate.ClientOf(context);
        var aborted = context.RequestAborted;
        var request = await ServerJson.ReadAsync(context, ServerJson.Wire.QueryRequest).ConfigureAwait(false);
        if (request is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(request.Question))
        {
            await ApiErrors.BadRequestAsync(context, "question is required", "question").ConfigureAwait(false);
            return;
        }

        if (request.Question.Length > options.MaxQuestionChars)
        {
            await ApiErrors.BadRequestAsync(context, FormattableString.Invariant($"the question has {request.Question.Length:N0} characters, more than this server's limit of {options.MaxQuestionChars:N0}"), "question").ConfigureAwait(false);
            return;
        }

        if (await corpora.GetAsync(id, aborted).ConfigureAwait(false) is not { } corpus)
        {
            await ApiErrors.NotFoundAsync(context, $"no corpus with the id '{id}'", "id").ConfigureAwait(false);
            return;
        }

        RlmConversationSnapshot? snapshot = null;
        string conversationId;
        if (request.ConversationId is { } given)
        {
            if (await conversations.GetAsync(given, aborted).ConfigureAwait(false) is not { } stored)
            {
                await ApiErrors.NotFoundAsync(context, $"no conversation with the id '{given}'", "conversation_id").ConfigureAwait(false);
                return;
            }

            if (stored.CorpusId != id)
            {
                await ApiErrors.BadRequestAsync(context, $"the conversation '{given}' is over the corpus '{stored.CorpusId}', not '{id}'", "conversation_id").ConfigureAwait(false);
                return;
            }

            snapshot = stored.Snapshot;
            conversationId = given;
        }
        else
        {
            conversationId = conversations.NewId();
        }

        bool stream = bool.TryParse(context.Request.Query["stream"], out bool streamed) && streamed;
        Channel<RlmEvent>? events = stream ? Channel.CreateUnbounded<RlmEvent>(new UnboundedChannelOptions { SingleReader = true }) : null;
        var rlm = model.Rlm;
        if (events is not null)
        {
            // This turn's events, for this request only: a copy of the model with its own progress sink.
            var runOptions = rlm.Options;
            var inner = runOptions.Progress;
            runOptions.Progress = new ChannelProgress(events.Writer, inner);
            rlm = new RecursiveLanguageModel(rlm.RootClient, rlm.WorkerClient, runOptions);
            ServerSentEvents.Start(context);
        }

        try
        {
            using var conversation = snapshot is null ? new RlmConversation(rlm, corpus) : new RlmConversation(rlm, corpus, snapshot);
            var ask = AskAsync(conversation, request.Question, id, conversationId, events?.Writer, aborted);
            if (events is not null)
            {
                await foreach (var e in events.Reader.ReadAllAsync(aborted).ConfigureAwait(false))
                {
                    if (e is not RlmRunCompleted)
                    {
                        await ServerSentEvents.WriteEventAsync(context, EventType(e), JsonSerializer.Serialize(Event(e), ServerJson.Wire.EventWire), aborted).ConfigureAwait(false);
                    }
                }
            }

            var (result, response) = await ask.ConfigureAwait(false);
            if (events is not null)
            {
                await ServerSentEvents.WriteEventAsync(context, "result", JsonSerializer.Serialize(response, ServerJson.Wire.QueryResponse), aborted).ConfigureAwait(false);
            }
            else
            {
                await context.Response.WriteAsJsonAsync(response, ServerJson.Wire.QueryResponse, contentType: null, aborted).ConfigureAwait(false);
            }

            log.Answered(route, client, result, started);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            log.Canceled(route, client, started);
        }
        catch (Exception e)
        {
            var (status, message, type, code) = failures.Describe(e);
            log.Failed(route, client, status, started);
            if (context.Response.HasStarted)
            {
                await ServerSentEvents.WriteEventAsync(context, "error", JsonSerializer.Serialize(new ErrorResponse(new ErrorBody(message, type, null, code)), ServerJson.Wire.ErrorResponse), CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await ApiErrors.WriteAsync(context, status, message, type, code).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Asks one turn and stores the conversation after it; a failed turn leaves the stored conversation as it was.</summary>
    private async Task<(RlmResult Result, QueryResponse Response)> AskAsync(RlmConversation conversation, string question, string corpusId, string conversationId, ChannelWriter<RlmEvent>? events, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Yield(); // the caller reads the events meanwhile
            var result = await conversation.AskAsync(question, cancellationToken).ConfigureAwait(false);
            var snapshot = await conversation.ToSnapshotAsync(cancellationToken).ConfigureAwait(false);
            await conversations.SaveAsync(conversationId, new StoredConversation(corpusId, snapshot), cancellationToken).ConfigureAwait(false);
            var usage = ChatCompletionsEndpoint.Usage(result);
            var response = new QueryResponse(
                ChatCompletionsEndpoint.AnswerText(result),
                ChatCompletionsEndpoint.StopReasonName(result.StopReason),
                result.StopMessage,
                new UsageWire(usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens),
                result.CostUsd,
                conversationId,
                snapshot.Turns.Count,
                corpusId,
                ChatCompletionsEndpoint.Citations(result));
            events?.TryComplete();
            return (result, response);
        }
        catch (Exception e)
        {
            events?.TryComplete(e);
            throw;
        }
    }

    /// <summary>The event's type: its record name without <c>Rlm</c>, in snake_case (<c>RlmSubCallEnded</c>: <c>sub_call_ended</c>).</summary>
    internal static string EventType(RlmEvent e) => JsonNamingPolicy.SnakeCaseLower.ConvertName(e.GetType().Name.StartsWith("Rlm", StringComparison.Ordinal) ? e.GetType().Name[3..] : e.GetType().Name);

    private static EventWire Event(RlmEvent e) => new(EventType(e), (long)e.Elapsed.TotalMilliseconds, e.Depth, e.Describe().ReplaceLineEndings(" "));

    private static string FirstSentence(string message) => message.Split(" (Parameter", 2)[0];

    /// <summary>Hands the run's events to the request's channel (and to the model's own progress sink, if any).</summary>
    private sealed class ChannelProgress(ChannelWriter<RlmEvent> writer, IProgress<RlmEvent>? inner) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value)
        {
            writer.TryWrite(value);
            inner?.Report(value);
        }
    }
}
