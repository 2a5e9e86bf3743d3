using Microsoft.Extensions.AI;
using Rlm.Tools.OpenAI;

namespace Rlm.Tools.Cli;

/// <summary>The models of one run and how to describe them (never with the API key).</summary>
internal sealed class ModelSetup : IDisposable
{
    /// <summary>The model used on an OpenAI-compatible endpoint when <c>--model</c> is not given.</summary>
    public const string DefaultModel = "gpt-4.1-mini";

    /// <summary>The environment variable holding the API key.</summary>
    public const string ApiKeyVariable = "OPENAI_API_KEY";

    /// <summary>The environment variable holding the endpoint's base URL.</summary>
    public const string BaseUrlVariable = "OPENAI_BASE_URL";

    private ModelSetup(IChatClient rootClient, IChatClient workerClient, bool offline, string rootModel, string workerModel, string? endpoint, string? apiKey, string? offlineReason, IReadOnlyList<string>? urlSecrets = null)
    {
        RootClient = rootClient;
        WorkerClient = workerClient;
        IsOffline = offline;
        RootModel = rootModel;
        WorkerModel = workerModel;
        Endpoint = endpoint;
        ApiKey = apiKey;
        OfflineReason = offlineReason;
        Secrets = [.. (apiKey is null ? [] : new[] { apiKey }).Concat(urlSecrets ?? [])];
    }

    /// <summary>Gets the root model's chat client (the offline model, or an OpenAI-compatible client wrapped in OpenTelemetry).</summary>
    public IChatClient RootClient { get; }

    /// <summary>Gets the worker model's chat client; the same instance as <see cref="RootClient"/> offline.</summary>
    public IChatClient WorkerClient { get; }

    /// <summary>Gets whether the offline model is used.</summary>
    public bool IsOffline { get; }

    /// <summary>Gets the root model id.</summary>
    public string RootModel { get; }

    /// <summary>Gets the worker model id.</summary>
    public string WorkerModel { get; }

    /// <summary>Gets the endpoint's base URL for display (no user info, query string or fragment), or <see langword="null"/> offline.</summary>
    public string? Endpoint { get; }

    /// <summary>Gets the API key (only to redact it from messages; never printed).</summary>
    public string? ApiKey { get; }

    /// <summary>
    /// Gets the values never to print: the API key, and the password and query values of the base URL (a key passed as
    /// <c>?key=…</c>). Added to <see cref="RlmOptions.RedactedValues"/> by every command.
    /// </summary>
    public IReadOnlyList<string> Secrets { get; }

    /// <summary>Gets why the offline model is used, for the stderr note.</summary>
    public string? OfflineReason { get; }

    /// <summary>Gets the provider name shown before model ids.</summary>
    public string Provider => IsOffline ? "offline" : RootClient.GetService<ChatClientMetadata>()?.ProviderName ?? "openai";

    /// <summary>
    /// Chooses the models: <c>--offline</c> forces the offline model; otherwise an endpoint is configured by <c>--base-url</c>,
    /// <c>OPENAI_BASE_URL</c> or <c>OPENAI_API_KEY</c> (then the public OpenAI endpoint); with none of them the offline model is used.
    /// </summary>
    /// <exception cref="CliUsageException">
    /// The URL is not an absolute http(s) URL, or an API key would be sent over plain <c>http://</c> to a host other than
    /// loopback without <paramref name="allowInsecureHttp"/>.
    /// </exception>
    public static ModelSetup Create(bool offline, string? baseUrl, string? model, string? workerModel, bool allowInsecureHttp = false, IReadOnlyList<string>? workers = null)
    {
        var named = ParseWorkers(workers ?? []);
        var setup = CreateCore(offline, baseUrl, model, workerModel, allowInsecureHttp);
        setup.Workers = [.. named.Select(w => new RlmWorker(w.Name, setup.IsOffline ? setup.WorkerClient : setup.BuildLike(w.Model), w.Model))];
        return setup;
    }

    /// <summary>
    /// Reads <c>--worker NAME=MODEL</c> values: a valid worker name (letters, digits, <c>_</c>, <c>-</c>), a non-empty model id,
    /// each name once.
    /// </summary>
    /// <exception cref="CliUsageException">A value is not of that form, or a name is given twice.</exception>
    internal static List<(string Name, string Model)> ParseWorkers(IReadOnlyList<string> values)
    {
        var workers = new List<(string Name, string Model)>();
        foreach (string value in values)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? value.Trim() : value[..equals].Trim();
            string modelId = equals < 0 ? "" : value[(equals + 1)..].Trim();
            if (equals < 0 || modelId.Length == 0 || !IsWorkerName(name))
            {
                throw new CliUsageException($"--worker takes NAME=MODEL (NAME of letters, digits, '_' or '-', at most 64), e.g. --worker fast=gpt-4.1-nano; got '{TerminalText.Inert(value)}'");
            }

            if (workers.Any(w => w.Name == name))
            {
                throw new CliUsageException($"--worker: the name '{name}' is given twice; each worker needs its own name");
            }

            workers.Add((name, modelId));
        }

        return workers;
    }

    private static bool IsWorkerName(string name) => name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static ModelSetup CreateCore(bool offline, string? baseUrl, string? model, string? workerModel, bool allowInsecureHttp)
    {
        string? apiKey = NonEmpty(Environment.GetEnvironmentVariable(ApiKeyVariable));
        if (offline)
        {
            return Offline(apiKey, "--offline");
        }

        string? url = NonEmpty(baseUrl);
        string urlSource = "--base-url";
        if (url is null && NonEmpty(Environment.GetEnvironmentVariable(BaseUrlVariable)) is { } fromEnvironment)
        {
            url = fromEnvironment;
            urlSource = BaseUrlVariable;
        }

        if (url is null && apiKey is null)
        {
            return Offline(apiKey, $"no endpoint configured (no --base-url, {BaseUrlVariable} or {ApiKeyVariable})");
        }

        Uri? endpoint = null;
        if (url is not null)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                throw new CliUsageException($"{urlSource} must be an absolute http or https URL, e.g. http://localhost:11434/v1");
            }

            if (apiKey is not null && !allowInsecureHttp && OpenAIChatClientFactory.IsInsecureEndpoint(endpoint))
            {
                throw new CliUsageException(
                    $"{urlSource} {OpenAIChatClientFactory.DescribeEndpoint(endpoint)} is plain http:// to a host other than this machine: " +
                    $"{ApiKeyVariable} would cross the network unencrypted. Use https://, or pass --allow-insecure-http to send it anyway");
            }
        }

        string root = NonEmpty(model) ?? DefaultModel;
        string worker = NonEmpty(workerModel) ?? root;
        var transport = new OpenAIChatClientFactoryOptions { AllowInsecureHttp = allowInsecureHttp };
        IChatClient rootClient = Build(root, apiKey, endpoint, transport);
        IChatClient workerClient = Build(worker, apiKey, endpoint, transport);
        string display = OpenAIChatClientFactory.DescribeEndpoint(endpoint ?? OpenAIChatClientFactory.DefaultEndpoint);
        return new ModelSetup(rootClient, workerClient, offline: false, root, worker, display, apiKey, offlineReason: null, endpoint is null ? null : UrlSecrets(endpoint))
        {
            BuildLike = id => Build(id, apiKey, endpoint, transport),
        };
    }

    /// <summary>Gets the named workers of <c>--worker</c> (same endpoint and key as the root; the offline model offline).</summary>
    public IReadOnlyList<RlmWorker> Workers { get; private set; } = [];

    /// <summary>Builds a client for another model id on the same endpoint, key and transport as the root.</summary>
    private Func<string, IChatClient> BuildLike { get; init; } = _ => throw new InvalidOperationException("The offline model builds no clients.");

    /// <summary>Removes the API key from a message that is about to be printed.</summary>
    public string Redact(string message) => new SecretRedactor(Secrets).Redact(message);

    /// <summary>The one sentence for a failed model endpoint: <c>the model endpoint failed (URL): detail</c>, the URL when known.</summary>
    public static string EndpointFailed(ModelSetup? models, string detail) =>
        $"the model endpoint failed{(models?.Endpoint is { } url ? $" ({url})" : "")}: {detail}";

    /// <inheritdoc />
    public void Dispose()
    {
        RootClient.Dispose();
        if (!ReferenceEquals(WorkerClient, RootClient))
        {
            WorkerClient.Dispose();
        }

        foreach (var worker in Workers.Where(w => !ReferenceEquals(w.Client, RootClient) && !ReferenceEquals(w.Client, WorkerClient)))
        {
            worker.Client.Dispose();
        }
    }

    /// <summary>An OpenAI-compatible client for <paramref name="model"/>, with M.E.AI's OpenTelemetry spans and metrics.</summary>
    private static IChatClient Build(string model, string? apiKey, Uri? endpoint, OpenAIChatClientFactoryOptions transport) =>
        new ChatClientBuilder(OpenAIChatClientFactory.Create(model, apiKey, endpoint, transport))
            .UseOpenTelemetry()
            .Build();

    private static ModelSetup Offline(string? apiKey, string reason)
    {
        var offline = new OfflineChatClient();
        return new(offline, offline, offline: true, OfflineChatClient.ModelId, OfflineChatClient.ModelId, endpoint: null, apiKey, reason);
    }

    /// <summary>The user-info password and the query values of a URL (decoded, and as written): credentials some gateways take there.</summary>
    private static List<string> UrlSecrets(Uri url)
    {
        var secrets = new List<string>();
        if (url.UserInfo.Split(':', 2) is [_, { Length: > 0 } password])
        {
            secrets.Add(password);
            secrets.Add(Uri.UnescapeDataString(password));
        }

        foreach (string pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (pair.Split('=', 2) is [_, { Length: > 0 } value])
            {
                secrets.Add(value);
                secrets.Add(Uri.UnescapeDataString(value.Replace('+', ' ')));
            }
        }

        return secrets;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
