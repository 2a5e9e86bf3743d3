namespace Rlm.Tools.Json;

/// <summary>The <c>models</c> object of <c>rlm --json</c>: the provider and the model ids of the run.</summary>
/// <param name="Provider">The provider, for example <c>openai</c> or <c>offline</c>.</param>
/// <param name="Root">The root model id.</param>
/// <param name="Worker">The worker model id.</param>
/// <param name="Offline">Whether the built-in offline model answered.</param>
internal sealed record ModelsJson(string Provider, string Root, string Worker, bool Offline);
