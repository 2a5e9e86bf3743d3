using Rlm.Tools.Sandbox;

namespace Rlm.Tools.Tests.Sandbox;

/// <summary>A <see cref="JsSandbox"/> whose every call gets the same host, as the calls of one session's tool do.</summary>
internal sealed class HostedSandbox(IJsHost host, JsLimits limits) : IDisposable
{
    public JsSandbox Sandbox { get; } = new(limits);

    public IJsHost Host { get; } = host;

    public Task<JsExecutionResult> ExecuteAsync(string code, CancellationToken cancellationToken) => Sandbox.ExecuteAsync(code, Host, cancellationToken);

    public void Dispose() => Sandbox.Dispose();
}
