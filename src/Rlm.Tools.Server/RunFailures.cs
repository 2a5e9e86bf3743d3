using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Rlm.Tools.Server;

/// <summary>
/// What a failed run becomes at the HTTP boundary, the same on every route: a model endpoint failure is 502 with a one-line,
/// redacted message; an answer that never fit the requested JSON schema is 502 too; anything else is 500 without details
/// (logged). A canceled run (the client left, or the stop bound passed) writes nothing.
/// </summary>
internal sealed partial class RunFailures(RlmServerOptions options, ILogger<RunFailures> logger)
{
    private readonly SecretRedactor _redactor = new(options.Rlm.Options.RedactedValues);

    /// <summary>Gets the status and error body for <paramref name="error"/>: (status, message, type, code).</summary>
    public (int Status, string Message, string Type, string Code) Describe(Exception error)
    {
        switch (error)
        {
            case RlmModelException:
                string detail = options.DescribeError?.Invoke(error) ?? "the model endpoint failed";
                return (StatusCodes.Status502BadGateway, _redactor.Redact(detail), "server_error", "model_error");
            case RlmAnswerFormatException:
                return (StatusCodes.Status502BadGateway, _redactor.Redact(error.Message), "server_error", "answer_format_error");
            default:
                LogUnexpected(error.GetType().Name, _redactor.Redact(error.Message));
                return (StatusCodes.Status500InternalServerError, "internal server error (see the server's log)", "server_error", "internal_error");
        }
    }

    /// <summary>Writes the error of <paramref name="error"/> unless the response has started.</summary>
    public Task WriteAsync(HttpContext context, Exception error)
    {
        var (status, message, type, code) = Describe(error);
        return ApiErrors.WriteAsync(context, status, message, type, code);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "unexpected error in a query: {Type}: {Message}")]
    private partial void LogUnexpected(string type, string message);
}
