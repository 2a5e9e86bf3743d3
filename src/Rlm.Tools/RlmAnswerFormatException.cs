namespace Rlm.Tools;

/// <summary>
/// Thrown by a typed query (<see cref="RecursiveLanguageModel.QueryAsync{T}(string, string, CancellationToken)"/>) when
/// the run's answer does not deserialize to the requested type: the root model's final answer still failed after
/// <see cref="RlmOptions.MaxAnswerFormatRetries"/> retries, or the run stopped without a final answer and its best
/// answer is not of the type.
/// </summary>
public sealed class RlmAnswerFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">One line: why the answer does not fit.</param>
    /// <param name="rawAnswer">The answer as the model gave it.</param>
    /// <param name="targetType">The type the answer was to be read as.</param>
    /// <param name="result">The run's result, or <see langword="null"/>.</param>
    public RlmAnswerFormatException(string message, string rawAnswer, Type targetType, RlmResult? result)
        : base(message)
    {
        RawAnswer = rawAnswer;
        TargetType = targetType;
        Result = result;
    }

    /// <summary>Gets the answer as the model gave it (empty when the run ended without one).</summary>
    public string RawAnswer { get; }

    /// <summary>Gets the type the answer was to be read as.</summary>
    public Type TargetType { get; }

    /// <summary>Gets the run's result (usage, statistics, trajectory), or <see langword="null"/>.</summary>
    public RlmResult? Result { get; }
}
