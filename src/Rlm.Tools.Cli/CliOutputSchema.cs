using System.CommandLine;
using System.Text.Json;
using Rlm.Tools.Orchestration;

namespace Rlm.Tools.Cli;

/// <summary>
/// <c>rlm --output-schema FILE</c>: the answer must be JSON valid against the JSON Schema in FILE, checked by the same
/// machinery as the middleware's JSON-schema response format (<see cref="AnswerFormat"/>: <c>final</c> declared with the
/// schema, an invalid answer sent back to the root with the reason, at most <see cref="RlmOptions.MaxAnswerFormatRetries"/>
/// times). Holds the outcome of the one run it checks: the parsed <see cref="Value"/>, or the <see cref="Error"/>.
/// </summary>
internal sealed class CliOutputSchema
{
    private readonly JsonElement _schema;

    private CliOutputSchema(JsonElement schema) => _schema = schema;

    /// <summary>Gets the answer parsed as JSON, once it validated; otherwise <see langword="null"/>.</summary>
    public JsonElement? Value { get; private set; }

    /// <summary>Gets why the answer does not match the schema (retries spent, or no final answer); <see langword="null"/> when it matched or before the run.</summary>
    public string? Error { get; private set; }

    /// <summary>Creates the option.</summary>
    public static Option<string> CreateOption() => new("--output-schema")
    {
        Description = "The answer must be JSON valid against the JSON Schema (draft 2020-12) in this file: the root model's final " +
                      "tool is declared with it, and an answer that does not validate goes back to the model with the reason " +
                      $"(at most {new RlmOptions().MaxAnswerFormatRetries} retries). The answer is printed as JSON; --json adds it parsed as value. An answer that never " +
                      "validates is printed as it is, with a note on stderr, and the exit code is 1. The file is read before the run.",
        HelpName = "FILE",
    };

    /// <summary>Reads and checks the schema file before the run; <see langword="null"/> when the option is absent.</summary>
    /// <exception cref="CliUsageException">The file is missing, unreadable, not JSON, or no JSON Schema JsonSchema.Net reads.</exception>
    public static CliOutputSchema? Read(string? path)
    {
        if (path is null)
        {
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            string why = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no such file",
                UnauthorizedAccessException => "permission denied",
                _ => Context.TextLimits.OneLine(e.Message, 200),
            };
            throw new CliUsageException($"--output-schema: cannot read {path}: {why}");
        }

        JsonElement schema;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            schema = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"--output-schema: {path} is not JSON: {Context.TextLimits.OneLine(e.Message, 200)}");
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new CliUsageException($"--output-schema: {path} must hold a JSON Schema object, such as {{\"type\":\"object\",\"properties\":{{…}}}}");
        }

        try
        {
            _ = AnswerFormat.ForSchema(schema, 0);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"--output-schema: {path} is not a JSON Schema rlm can read: {Context.TextLimits.OneLine(e.InnerException?.Message ?? e.Message, 200)}");
        }

        return new CliOutputSchema(schema);
    }

    /// <summary>Runs the query with the schema; the result, its <see cref="Value"/> or <see cref="Error"/> set. Never throws for an answer that does not match.</summary>
    public async Task<RlmResult> QueryAsync(RecursiveLanguageModel rlm, string question, RlmCorpus corpus, RlmOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var result = await rlm.QueryAsync(question, corpus, AnswerFormat.ForSchema(_schema, options.MaxAnswerFormatRetries), cancellationToken).ConfigureAwait(false);
            using var answer = JsonDocument.Parse(result.Answer);
            Value = answer.RootElement.Clone();
            return result;
        }
        catch (RlmAnswerFormatException e) when (e.Result is { } result)
        {
            // AnswerFormat's message says "response format" (the middleware's word); the reason after its first colon is the same.
            int colon = e.Message.IndexOf(": ", StringComparison.Ordinal);
            string how = result.IsFinal ? $"after {result.Statistics.AnswerFormatRetries} retries" : "and the run stopped without a final answer";
            Error = $"the answer does not match --output-schema {how}: {(colon >= 0 ? e.Message[(colon + 2)..] : e.Message)}";
            return result;
        }
    }
}
