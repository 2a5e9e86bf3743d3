using System.Text.Json.Serialization.Metadata;
using Rlm.Tools.Context;
using Rlm.Tools.Orchestration;

namespace Rlm.Tools;

/// <summary>Typed queries: the answer as a .NET type, its JSON schema declared to the root model.</summary>
public sealed partial class RecursiveLanguageModel
{
    /// <summary>
    /// Answers <paramref name="query"/> over one string context with a value of type <typeparamref name="T"/>. The JSON
    /// schema of <typeparamref name="T"/> is made as M.E.AI's <c>GetResponseAsync&lt;T&gt;</c> makes it
    /// (<see cref="Microsoft.Extensions.AI.ChatResponseFormat.ForJsonSchema{T}"/>, M.E.AI's JSON defaults: camelCase
    /// names) and the root model's <c>final</c> tool is declared with it as its <c>answer</c> parameter. A final answer
    /// that does not deserialize goes back to the root model as a tool error with the reason, at most
    /// <see cref="RlmOptions.MaxAnswerFormatRetries"/> times (<see cref="RlmStatistics.AnswerFormatRetries"/>).
    /// </summary>
    /// <typeparam name="T">The answer's type: a class, record, collection or primitive that System.Text.Json can read.</typeparam>
    /// <param name="query">The question.</param>
    /// <param name="context">The context; it is never sent in a prompt, only explored through tools.</param>
    /// <param name="cancellationToken">Cancels every model request and tool of the run.</param>
    /// <returns>The answer as <typeparamref name="T"/> and the run's result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="context"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty or white space.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good; <see cref="RlmModelException.PartialResult"/> holds the run so far.</exception>
    /// <exception cref="RlmAnswerFormatException">The answer is not a <typeparamref name="T"/> after the retries; it holds the raw answer and the run's result.</exception>
    public Task<RlmResult<T>> QueryAsync<T>(string query, string context, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(context);
        return RunTypedAsync<T>(query, ContextText.FromString(context), cancellationToken);
    }

    /// <summary>Answers <paramref name="query"/> over several named documents with a value of type <typeparamref name="T"/> (see <see cref="QueryAsync{T}(string, string, CancellationToken)"/>).</summary>
    /// <typeparam name="T">The answer's type.</typeparam>
    /// <param name="query">The question.</param>
    /// <param name="documents">The documents, joined in order into one context.</param>
    /// <param name="cancellationToken">Cancels every model request and tool of the run.</param>
    /// <returns>The answer as <typeparamref name="T"/> and the run's result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="documents"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty, or the documents are empty or too large for one context.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good.</exception>
    /// <exception cref="RlmAnswerFormatException">The answer is not a <typeparamref name="T"/> after the retries.</exception>
    public Task<RlmResult<T>> QueryAsync<T>(string query, IReadOnlyList<RlmDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        return RunTypedAsync<T>(query, Documents(documents), cancellationToken);
    }

    /// <summary>Answers <paramref name="query"/> over a prepared <see cref="RlmCorpus"/> with a value of type <typeparamref name="T"/> (see <see cref="QueryAsync{T}(string, string, CancellationToken)"/>).</summary>
    /// <typeparam name="T">The answer's type.</typeparam>
    /// <param name="query">The question.</param>
    /// <param name="corpus">The prepared context; shared, never modified.</param>
    /// <param name="cancellationToken">Cancels every model request and tool of the run.</param>
    /// <returns>The answer as <typeparamref name="T"/> and the run's result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> or <paramref name="corpus"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="query"/> is empty or white space.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    /// <exception cref="RlmModelException">A root model request failed for good.</exception>
    /// <exception cref="RlmAnswerFormatException">The answer is not a <typeparamref name="T"/> after the retries.</exception>
    public Task<RlmResult<T>> QueryAsync<T>(string query, RlmCorpus corpus, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentNullException.ThrowIfNull(corpus);
        return RunTypedAsync<T>(query, corpus.Text, cancellationToken);
    }

    /// <summary>A query whose answer must match <paramref name="format"/> (the middleware's JSON-schema response format).</summary>
    /// <exception cref="RlmAnswerFormatException">The answer does not match after the retries.</exception>
    internal async Task<RlmResult> QueryAsync(string query, IReadOnlyList<RlmDocument> documents, AnswerFormat format, CancellationToken cancellationToken)
    {
        var result = await RunAsync(query, Documents(documents), cancellationToken, answerFormat: format).ConfigureAwait(false);
        format.EnsureValid(result);
        return result;
    }

    /// <summary>A query over a prepared corpus whose answer must match <paramref name="format"/> (<c>rlm --output-schema</c>).</summary>
    /// <exception cref="RlmAnswerFormatException">The answer does not match after the retries.</exception>
    internal async Task<RlmResult> QueryAsync(string query, RlmCorpus corpus, AnswerFormat format, CancellationToken cancellationToken)
    {
        var result = await RunAsync(query, corpus.Text, cancellationToken, answerFormat: format).ConfigureAwait(false);
        format.EnsureValid(result);
        return result;
    }

    /// <summary>The events of a query whose answer must match <paramref name="format"/>; the caller checks the completed run's answer.</summary>
    internal IAsyncEnumerable<RlmEvent> QueryStreamingAsync(string query, IReadOnlyList<RlmDocument> documents, AnswerFormat format, CancellationToken cancellationToken) =>
        StreamAsync(query, Documents(documents), cancellationToken, format);

    private async Task<RlmResult<T>> RunTypedAsync<T>(string query, ContextText text, CancellationToken cancellationToken)
    {
        var format = AnswerFormat.For<T>(_options.MaxAnswerFormatRetries);
        var result = await RunAsync(query, text, cancellationToken, answerFormat: format).ConfigureAwait(false);
        var typeInfo = (JsonTypeInfo<T>)AnswerFormat.SerializerOptions.GetTypeInfo(typeof(T));
        T? value = default;
        string? error = result.Answer.Length == 0
            ? "the run ended without an answer."
            : AnswerFormat.TryDeserialize(result.Answer, typeInfo, out value);
        if (error is not null)
        {
            string how = result.IsFinal ? $"after {result.Statistics.AnswerFormatRetries} retries" : "and the run stopped without a final answer";
            throw new RlmAnswerFormatException($"The answer is not a {typeof(T).Name} {how}: {TextLimits.OneLine(error, 300)}", result.Answer, typeof(T), result);
        }

        return new RlmResult<T>(value!, result);
    }
}
