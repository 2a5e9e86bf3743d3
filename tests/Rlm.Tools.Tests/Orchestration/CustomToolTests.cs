using System.Text.Json;
using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>Custom tools (<see cref="RlmOptions.Tools"/>): the text the model reads, and the host's services they get.</summary>
public sealed class CustomToolTests
{
    [Fact]
    public async Task CustomTool_ResultJson_KeepsPlusNonAsciiAndMarkupAsThemselves_AndStaysValidJson()
    {
        var package = AIFunctionFactory.Create(
            () => new Package("curl", "7.88.1-10+deb12u14", "Zürich café — naïve 🎉", "<a href='x'>&</a>", "say \"hi\"\\ok, literal \\uD83D\\uDE00 text"),
            "package_info");
        var plain = AIFunctionFactory.Create(() => "7.88.1-10+deb12u14 é <>&'", "plain_text");
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("package_info", new { }), ("plain_text", new { })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));

        await new RecursiveLanguageModel(root, options: new RlmOptions { Tools = [package, plain] }).QueryAsync("Which curl?", "ctx");

        var results = TestChatClient.LastToolResults(root.Requests[1]);
        string json = results[0];
        Assert.Contains("\"7.88.1-10+deb12u14\"", json, StringComparison.Ordinal);
        Assert.Contains("Zürich café — naïve 🎉", json, StringComparison.Ordinal);
        Assert.Contains("<a href='x'>&</a>", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u00", json, StringComparison.Ordinal);
        Assert.DoesNotContain("uD83C", json, StringComparison.OrdinalIgnoreCase); // the emoji as itself, not as an escaped surrogate pair
        using var parsed = JsonDocument.Parse(json); // still JSON: quotes and backslashes escaped
        Assert.Equal("say \"hi\"\\ok, literal \\uD83D\\uDE00 text", parsed.RootElement.GetProperty("note").GetString()); // an escaped backslash before "u" stays
        Assert.Equal("Zürich café — naïve 🎉", parsed.RootElement.GetProperty("city").GetString());
        Assert.Equal("7.88.1-10+deb12u14 é <>&'", results[1]);
    }

    [Fact]
    public async Task CustomTool_GetsRlmOptionsServices_AsItsServiceProviderParameter_AndArgumentsServices()
    {
        var services = new OneService(new Greeter("from the host"));
        var byParameter = AIFunctionFactory.Create((IServiceProvider sp) => ((Greeter)sp.GetService(typeof(Greeter))!).Name, "by_parameter");
        var byArguments = new ArgumentsFunction();
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(("by_parameter", new { }), ("by_arguments", new { })),
            _ => TestChatClient.Calls(("final", new { answer = "done" })));

        await new RecursiveLanguageModel(root, options: new RlmOptions { Tools = [byParameter, byArguments], Services = services }).QueryAsync("q?", "ctx");

        Assert.Equal(["from the host", "from the host"], TestChatClient.LastToolResults(root.Requests[1]));
        Assert.DoesNotContain("serviceProvider", byParameter.JsonSchema.ToString(), StringComparison.OrdinalIgnoreCase); // never asked of the model
    }

    [Fact]
    public void RlmOptions_Services_IsCopiedWithTheOptions()
    {
        var services = new OneService(new Greeter("x"));
        var rlm = new RecursiveLanguageModel(new OfflineChatClient(), options: new RlmOptions { Services = services });

        Assert.Same(services, rlm.Options.Services);
        Assert.Null(new RlmOptions().Services);
    }

    private sealed record Package(string Name, string Version, string City, string Markup, string Note);

    private sealed record Greeter(string Name);

    private sealed class OneService(object service) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType.IsInstanceOfType(service) ? service : null;
    }

    /// <summary>A hand-written function that reads <see cref="AIFunctionArguments.Services"/> itself.</summary>
    private sealed class ArgumentsFunction : AIFunction
    {
        public override string Name => "by_arguments";

        protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
            ValueTask.FromResult<object?>(((Greeter?)arguments.Services?.GetService(typeof(Greeter)))?.Name ?? "no services");
    }
}
