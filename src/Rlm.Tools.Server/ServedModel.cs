using Microsoft.Extensions.Logging;
using Rlm.Tools.Server.State;

namespace Rlm.Tools.Server;

/// <summary>
/// The server's one model, built once: <see cref="RlmServerOptions.Rlm"/> with the replicas' shared state
/// (<see cref="ServerSharedState"/>: sub-call memo, provider limit) and its engine logs going to the server's (stderr), and the <see cref="RlmChatClient"/> middleware over it that turns chat requests into runs.
/// </summary>
internal sealed class ServedModel
{
    public ServedModel(RlmServerOptions options, ServerSharedState sharedState, ILoggerFactory loggerFactory)
    {
        var rlm = options.Rlm;

        // The replicas' shared sub-call memo and provider limit (Redis, or this process without it).
        var runOptions = sharedState.ApplyTo(rlm.Options);
        runOptions.LoggerFactory ??= loggerFactory;
        Rlm = new RecursiveLanguageModel(rlm.RootClient, rlm.WorkerClient, runOptions);

        // Every chat request that reaches the middleware is a run (the endpoint marks it): the server is the RLM, not a proxy.
        ChatClient = new RlmChatClient(rlm.RootClient, new RlmChatClientOptions { WorkerClient = rlm.WorkerClient, RlmOptions = runOptions, StreamProgress = true });
        ModelId = options.ModelId;
    }

    /// <summary>Gets the model of the corpus routes.</summary>
    public RecursiveLanguageModel Rlm { get; }

    /// <summary>Gets the middleware of the chat route.</summary>
    public RlmChatClient ChatClient { get; }

    /// <summary>Gets the configured (root) model id a request may name besides <c>rlm</c>.</summary>
    public string? ModelId { get; }

    /// <summary>The model name of the service itself.</summary>
    public const string ServiceModel = "rlm";

    /// <summary>Tells whether a request may name <paramref name="model"/>.</summary>
    public bool Serves(string model) => model == ServiceModel || (ModelId is { } id && model == id);
}
