using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Rlm.Tools.Server.State;

namespace Rlm.Tools.Server.OpenAI;

/// <summary>
/// <c>POST /v1/chat/completions</c> in the shape of OpenAI's Chat Completions API. The context of the run is, in this order:
/// the stored corpus named by the extension <c>"rlm": {"corpus": "ID"}</c>; else the request's own large messages and text
/// attachments (the <see cref="RlmChatClient"/> middleware makes them the documents); else the corpus loaded at start
/// (<c>default</c>); else the messages alone. <c>stream: true</c> answers with <c>chat.completion.chunk</c> server-sent
/// events: a first chunk with the role, a comment line per run event while the run works (keeps proxies from timing out),
/// the answer in content deltas, a chunk with <c>finish_reason</c>, a usage chunk when <c>stream_options.include_usage</c>,
/// then <c>data: [DONE]</c>.
/// </summary>
internal sealed class ChatCompletionsEndpoint(ServedModel model, ICorpusStore corpora, RunFailures failures, QueryLog log)
{
    public const string Route = "/v1/chat/completions";

    /// <summary>The size of the answer's content deltas when streamed, in characters.</summary>
    private const int DeltaChars = 64;

    public async Task HandleAsync(HttpContext context)
    {
        long started = Stopwatch.GetTimestamp();
        string client = RequestGate.ClientOf(context);
        var aborted = context.RequestAborted;
        ChatCompletionRequest? request;
        PlannedRun run;
        try
        {
            request = await ServerJson.ReadAsync(context, ServerJson.Wire.ChatCompletionRequest).ConfigureAwait(false);
            if (request is null)
            {
                return; // the error is written
            }

            if (string.IsNullOrWhiteSpace(request.Model))
            {
                throw new ChatRequestException("model is required: rlm" + (model.ModelId is { } id ? $" or {id}" : ""), "model");
            }

            if (!model.Serves(request.Model))
            {
                await ApiErrors.WriteAsync(context, StatusCodes.Status404NotFound, $"The model '{request.Model}' does not exist: this server serves rlm{(model.ModelId is { } id ? $" and {id}" : "")}.", "invalid_request_error", "model_not_found", "model").ConfigureAwait(false);
                return;
            }

            if (request.Messages is not { Count: > 0 })
            {
                throw new ChatRequestException("messages must hold at least one message", "messages");
            }

            run = await PlanAsync(request, context).ConfigureAwait(false);
        }
        catch (ChatRequestException e)
        {
            await ApiErrors.BadRequestAsync(context, e.Message, e.Param).ConfigureAwait(false);
            return;
        }
        catch (RunPlanNotFoundException e)
        {
            await ApiErrors.NotFoundAsync(context, e.Message, "rlm.corpus").ConfigureAwait(false);
            return;
        }

        string completionId = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        try
        {
            if (request.Stream == true)
            {
                var result = await StreamAsync(context, run, completionId, created, request.Model!, request.StreamOptions?.IncludeUsage == true).ConfigureAwait(false);
                log.Answered(Route, client, result, started);
            }
            else
            {
                var result = await run.RunAsync(aborted).ConfigureAwait(false);
                await context.Response.WriteAsJsonAsync(Completion(result, completionId, created, request.Model!), ServerJson.Wire.ChatCompletionResponse, contentType: null, aborted).ConfigureAwait(false);
                log.Answered(Route, client, result, started);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            log.Canceled(Route, client, started);
        }
        catch (Exception e)
        {
            var (status, message, type, code) = failures.Describe(e);
            log.Failed(Route, client, status, started);
            if (context.Response.HasStarted)
            {
                // Mid-stream: an error event in the OpenAI shape, then the end (OpenAI's SDKs raise it as an APIError).
                await ServerSentEvents.WriteDataAsync(context, JsonSerializer.Serialize(new ErrorResponse(new ErrorBody(message, type, null, code)), ServerJson.Wire.ErrorResponse), CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await ApiErrors.WriteAsync(context, status, message, type, code).ConfigureAwait(false);
            }
        }
    }

    private async Task<PlannedRun> PlanAsync(ChatCompletionRequest request, HttpContext context)
    {
        var messages = ChatRequestReader.ToChatMessages(request.Messages!);
        if (request.Rlm?.Corpus is { } id)
        {
            var corpus = await corpora.GetAsync(id, context.RequestAborted).ConfigureAwait(false)
                ?? throw new RunPlanNotFoundException($"no corpus with the id '{id}'");
            return PlannedRun.OverCorpus(model.Rlm, ChatRequestReader.Question(messages), corpus);
        }

        if (!ChatRequestReader.HasOwnContext(messages, model.ChatClient, RlmChatClientOptions.DefaultMinDocumentTokens)
            && await corpora.GetAsync(ICorpusStore.DefaultId, context.RequestAborted).ConfigureAwait(false) is { } defaultCorpus)
        {
            return PlannedRun.OverCorpus(model.Rlm, ChatRequestReader.Question(messages), defaultCorpus);
        }

        var options = new ChatOptions { AdditionalProperties = new() { [RlmChatClient.UseRlmPropertyKey] = true } };
        if (request.ResponseFormat is { Type: "json_schema", JsonSchema.Schema: { } schema } format)
        {
            options.ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, format.JsonSchema.Name, format.JsonSchema.Description);
        }

        return PlannedRun.OverMessages(model.ChatClient, messages, options);
    }

    private static async Task<RlmResult> StreamAsync(HttpContext context, PlannedRun run, string id, long created, string modelName, bool includeUsage)
    {
        var aborted = context.RequestAborted;
        ServerSentEvents.Start(context);
        await WriteChunkAsync(context, Chunk(id, created, modelName, new ChatCompletionOutputMessage("assistant", ""), finishReason: null), aborted).ConfigureAwait(false);
        RlmResult? result = null;
        await foreach (var e in run.StreamAsync(aborted).ConfigureAwait(false))
        {
            if (e is RlmRunCompleted completed)
            {
                result = completed.Result;
            }
            else if (e is RlmIterationStarted or RlmSubCallStarted or RlmSubCallMemoized or RlmModelRetry or RlmBudgetWarning or RlmQueryQueued)
            {
                // Progress without the documents' text (tool results and sub-call answers are left out).
                await ServerSentEvents.WriteCommentAsync(context, e.Describe(), aborted).ConfigureAwait(false);
            }
        }

        if (result is null)
        {
            throw new InvalidOperationException("The run ended without a result.");
        }

        string text = AnswerText(result);
        for (int i = 0; i < text.Length; i += DeltaChars)
        {
            await WriteChunkAsync(context, Chunk(id, created, modelName, new ChatCompletionOutputMessage(null, text.Substring(i, Math.Min(DeltaChars, text.Length - i))), finishReason: null), aborted).ConfigureAwait(false);
        }

        await WriteChunkAsync(context, Chunk(id, created, modelName, new ChatCompletionOutputMessage(null, null), FinishReason(result)) with { Rlm = Extension(result) }, aborted).ConfigureAwait(false);
        if (includeUsage)
        {
            await WriteChunkAsync(context, new ChatCompletionResponse(id, "chat.completion.chunk", created, modelName, [], Usage(result)), aborted).ConfigureAwait(false);
        }

        await ServerSentEvents.WriteDataAsync(context, "[DONE]", aborted).ConfigureAwait(false);
        return result;
    }

    private static Task WriteChunkAsync(HttpContext context, ChatCompletionResponse chunk, CancellationToken cancellationToken) =>
        ServerSentEvents.WriteDataAsync(context, JsonSerializer.Serialize(chunk, ServerJson.Wire.ChatCompletionResponse), cancellationToken);

    private static ChatCompletionResponse Chunk(string id, long created, string modelName, ChatCompletionOutputMessage delta, string? finishReason) =>
        new(id, "chat.completion.chunk", created, modelName, [new ChatCompletionChoice(0, Message: null, delta, finishReason)], Usage: null);

    private static ChatCompletionResponse Completion(RlmResult result, string id, long created, string modelName) =>
        new(id, "chat.completion", created, modelName, [new ChatCompletionChoice(0, new ChatCompletionOutputMessage("assistant", AnswerText(result)), Delta: null, FinishReason(result))], Usage(result), Extension(result));

    /// <summary>The answer; for a run without one (a budget stop), why it stopped, so the user is told something.</summary>
    internal static string AnswerText(RlmResult result) => result.Answer.Length > 0 ? result.Answer : result.StopMessage ?? "";

    private static string FinishReason(RlmResult result) => result.StopReason == RlmStopReason.IterationLimit ? "length" : "stop";

    internal static CompletionUsage Usage(RlmResult result)
    {
        long input = result.Usage.InputTokenCount ?? 0;
        long output = result.Usage.OutputTokenCount ?? 0;
        return new CompletionUsage(input, output, result.Usage.TotalTokenCount ?? input + output);
    }

    internal static RlmResponseExtension Extension(RlmResult result) =>
        new(StopReasonName(result.StopReason), result.StopMessage, result.CostUsd, Citations(result));

    internal static string StopReasonName(RlmStopReason reason) => JsonNamingPolicy.SnakeCaseLower.ConvertName(reason.ToString());

    internal static IReadOnlyList<CitationWire> Citations(RlmResult result) =>
        [.. result.Citations.Select(c => new CitationWire(c.Text, c.Document, c.Line, c.Verified))];
}

/// <summary>A run ready to go, over a corpus or over a request's messages, answered whole or as its events.</summary>
internal sealed class PlannedRun
{
    private PlannedRun(Func<CancellationToken, Task<RlmResult>> run, Func<CancellationToken, IAsyncEnumerable<RlmEvent>> stream)
    {
        RunAsync = run;
        StreamAsync = stream;
    }

    public Func<CancellationToken, Task<RlmResult>> RunAsync { get; }

    public Func<CancellationToken, IAsyncEnumerable<RlmEvent>> StreamAsync { get; }

    public static PlannedRun OverCorpus(RecursiveLanguageModel rlm, string question, RlmCorpus corpus) =>
        new(ct => rlm.QueryAsync(question, corpus, ct), ct => rlm.QueryStreamingAsync(question, corpus, ct));

    public static PlannedRun OverMessages(RlmChatClient client, IReadOnlyList<ChatMessage> messages, ChatOptions options) =>
        new(async ct => (await client.GetResponseAsync(messages, options, ct).ConfigureAwait(false)).RawRepresentation as RlmResult
                        ?? throw new InvalidOperationException("The middleware answered without a run."),
            ct => Events(client, messages, options, ct));

    private static async IAsyncEnumerable<RlmEvent> Events(RlmChatClient client, IReadOnlyList<ChatMessage> messages, ChatOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var update in client.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            if (update.AdditionalProperties?.TryGetValue(RlmChatClient.EventPropertyKey, out object? value) == true && value is RlmEvent e)
            {
                yield return e;
            }
        }
    }
}

/// <summary>A request names a corpus or conversation that does not exist: 404.</summary>
internal sealed class RunPlanNotFoundException(string message) : Exception(message);
