namespace Rlm.Tools;

/// <summary>
/// The outcome of a typed query (<see cref="RecursiveLanguageModel.QueryAsync{T}(string, string, CancellationToken)"/>):
/// the answer deserialized to <typeparamref name="T"/>, and the run's <see cref="RlmResult"/>.
/// </summary>
/// <typeparam name="T">The answer's type.</typeparam>
/// <remarks>
/// It carries the <see cref="RlmResult"/> rather than deriving from it, so <see cref="RlmResult"/> stays sealed and every
/// part of a run (usage, statistics, trajectory and whatever a run reports later) is read from <see cref="Result"/> as
/// for a text query.
/// </remarks>
public sealed class RlmResult<T>
{
    /// <summary>Creates the outcome of a typed query.</summary>
    /// <param name="value">The answer as <typeparamref name="T"/>.</param>
    /// <param name="result">The run's result; its <see cref="RlmResult.Answer"/> is the answer's JSON text.</param>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is <see langword="null"/>.</exception>
    public RlmResult(T value, RlmResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Value = value;
        Result = result;
    }

    /// <summary>Gets the answer deserialized to <typeparamref name="T"/> (with M.E.AI's JSON defaults: camelCase names).</summary>
    public T Value { get; }

    /// <summary>Gets the run's result: the answer's JSON text, why the run stopped, usage, statistics and trajectory.</summary>
    public RlmResult Result { get; }

    /// <summary>Gets the answer's JSON text, as the model gave it (<see cref="RlmResult.Answer"/> of <see cref="Result"/>).</summary>
    public string Answer => Result.Answer;

    /// <summary>Gets the run's counts (<see cref="RlmResult.Statistics"/> of <see cref="Result"/>), <see cref="RlmStatistics.AnswerFormatRetries"/> among them.</summary>
    public RlmStatistics Statistics => Result.Statistics;
}
