using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Rlm.Tools.Hosting.Tests;

/// <summary>Several models in one container, mistyped configuration keys, and the container's services reaching custom tools.</summary>
public sealed class KeyedAndStrictConfigurationTests
{
    private const string Context = "2024-05-01 10:03:17 ERROR database connection refused: host db-primary\n";

    private static HostApplicationBuilder NewBuilder(Dictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        return builder;
    }

    [Theory]
    [InlineData("Rlm:MaxDepht", "Rlm:MaxDepht is not a setting of the Recursive Language Model; did you mean Rlm:MaxDepth?")]
    [InlineData("Rlm:maxiteration", "Rlm:maxiteration is not a setting of the Recursive Language Model; did you mean Rlm:MaxIterations?")]
    [InlineData("Rlm:MaxCostUSD2", "Rlm:MaxCostUSD2 is not a setting of the Recursive Language Model; did you mean Rlm:MaxCostUsd?")]
    public async Task A_mistyped_key_fails_at_start_naming_it_and_the_nearest_setting(string key, string message)
    {
        var builder = NewBuilder(new() { [key] = "3", ["Rlm:MaxSubCalls"] = "5" });
        builder.Services.AddRecursiveLanguageModel().UseRootChatClient(new OfflineChatClient());

        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal([message], error.Failures);
    }

    [Fact]
    public async Task A_key_like_no_setting_fails_listing_the_settings()
    {
        var builder = NewBuilder(new() { ["Rlm:Endpoint"] = "https://example.test" });
        builder.Services.AddRecursiveLanguageModel().UseRootChatClient(new OfflineChatClient());

        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        string failure = Assert.Single(error.Failures);
        Assert.StartsWith("Rlm:Endpoint is not a setting of the Recursive Language Model. The settings are: ", failure, StringComparison.Ordinal);
        Assert.Contains("MaxDepth", failure, StringComparison.Ordinal);
        Assert.Contains("MaxWallTime", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keyed_models_live_side_by_side_with_their_own_clients_options_and_sections()
    {
        var defaultRoot = new CountingClient(new OfflineChatClient());
        var legalRoot = new CountingClient(new OfflineChatClient());
        var codeRoot = new CountingClient(new OfflineChatClient());
        var builder = NewBuilder(new()
        {
            ["Rlm:MaxDepth"] = "3",
            ["Rlm:legal:MaxDepth"] = "2",
            ["Rlm:legal:RootModelId"] = "legal-model",
            ["Rlm:code:MaxIterations"] = "5",
        });
        builder.Services.AddRecursiveLanguageModel().UseRootChatClient(defaultRoot);
        builder.Services.AddKeyedRecursiveLanguageModel("legal", o => o.MaxSubCalls = 11).UseRootChatClient(legalRoot);
        builder.Services.AddKeyedChatClient("code", codeRoot); // a client under the model's own key is its root
        builder.Services.AddKeyedRecursiveLanguageModel("code");

        using var host = builder.Build();
        await host.StartAsync();
        var unkeyed = host.Services.GetRequiredService<RecursiveLanguageModel>();
        var legal = host.Services.GetRequiredKeyedService<RecursiveLanguageModel>("legal");
        var code = host.Services.GetRequiredKeyedService<RecursiveLanguageModel>("code");
        var answer = await legal.QueryAsync("Which host refused the database connection?", Context);
        await code.QueryAsync("Which host refused the database connection?", Context);
        await host.StopAsync();

        Assert.NotSame(unkeyed, legal);
        Assert.Same(legal, host.Services.GetRequiredKeyedService<RecursiveLanguageModel>("legal"));
        Assert.Equal(3, unkeyed.Options.MaxDepth);
        Assert.Equal(2, legal.Options.MaxDepth);
        Assert.Equal("legal-model", legal.Options.RootModelId);
        Assert.Equal(11, legal.Options.MaxSubCalls);
        Assert.Equal(new RlmOptions().MaxSubCalls, unkeyed.Options.MaxSubCalls); // Configure of one model is its own
        Assert.Equal(5, code.Options.MaxIterations);
        Assert.Equal(new RlmOptions().MaxDepth, code.Options.MaxDepth);
        Assert.Contains("db-primary", answer.Answer, StringComparison.Ordinal);
        Assert.True(legalRoot.Calls > 0);
        Assert.True(codeRoot.Calls > 0);
        Assert.Equal(0, defaultRoot.Calls);
    }

    [Fact]
    public async Task A_keyed_models_mistyped_key_and_bad_value_fail_at_start_by_their_path()
    {
        var builder = NewBuilder(new() { ["Rlm:legal:MaxDepht"] = "2", ["Rlm:legal:MaxDepth"] = "12" });
        builder.Services.AddKeyedRecursiveLanguageModel("legal").UseRootChatClient(new OfflineChatClient());

        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Rlm:legal:MaxDepht is not a setting of the Recursive Language Model; did you mean Rlm:legal:MaxDepth?", error.Failures);
        Assert.Contains("Rlm:legal:MaxDepth must be a whole number between 1 and 8 (got '12').", error.Failures);
    }

    [Fact]
    public async Task A_keyed_model_without_any_root_client_fails_at_start_and_a_key_twice_is_refused()
    {
        var builder = NewBuilder();
        builder.Services.AddKeyedRecursiveLanguageModel("legal");

        Assert.Throws<ArgumentException>(() => builder.Services.AddKeyedRecursiveLanguageModel("legal"));
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(RlmServiceKeys.Root, Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Custom_tools_get_the_containers_services_keyed_or_not()
    {
        var builder = NewBuilder();
        builder.Services.AddSingleton(new Greeter("from the container"));
        var whoami = AIFunctionFactory.Create((IServiceProvider sp) => sp.GetRequiredService<Greeter>().Name, "whoami");
        var root = new ToolThenFinal("whoami");
        var keyedRoot = new ToolThenFinal("whoami");
        builder.Services.AddRecursiveLanguageModel(o => o.Tools.Add(whoami)).UseRootChatClient(root);
        builder.Services.AddKeyedRecursiveLanguageModel("other").Configure(o => o.Tools.Add(whoami)).UseRootChatClient(keyedRoot);

        using var host = builder.Build();
        await host.StartAsync();
        var result = await host.Services.GetRequiredService<RecursiveLanguageModel>().QueryAsync("Who?", "ctx");
        await host.Services.GetRequiredKeyedService<RecursiveLanguageModel>("other").QueryAsync("Who?", "ctx");
        await host.StopAsync();

        Assert.Equal("from the container", root.ToolResult);
        Assert.Equal("from the container", keyedRoot.ToolResult);
        Assert.Equal("done", result.Answer);
    }

    private sealed record Greeter(string Name);

    private sealed class CountingClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return base.GetResponseAsync(messages, options, cancellationToken);
        }

        public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return base.GetStreamingResponseAsync(messages, options, cancellationToken);
        }
    }

    /// <summary>A root model that calls one tool, records its result, then answers <c>done</c> with <c>final</c>.</summary>
    private sealed class ToolThenFinal(string tool) : IChatClient
    {
        public string? ToolResult { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var results = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToList();
            if (results.Count == 0)
            {
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", tool, new Dictionary<string, object?>())])));
            }

            ToolResult = results[^1].Result?.ToString();
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c2", "final", new Dictionary<string, object?> { ["answer"] = "done" })])));
        }

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
            {
                yield return update;
            }
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}

/// <summary>The configuration keys the docs list are the ones bound: adding an option without documenting its key fails here.</summary>
public sealed class ConfigurationKeyDocumentationTests
{
    [Fact]
    public void Every_setting_is_listed_in_the_AddRecursiveLanguageModel_remarks_and_the_README_options()
    {
        string root = Root();
        string remarks = File.ReadAllText(Path.Combine(root, "src", "Rlm.Tools.Hosting", "RlmServiceCollectionExtensions.cs"));
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string options = readme[readme.IndexOf("\n### Options (defaults)\n", StringComparison.Ordinal)..];
        options = options[..options.IndexOf("\n### ", 5, StringComparison.Ordinal)];

        Assert.All(RlmConfigurationBinding.SettingNames, name =>
        {
            Assert.True(remarks.Contains($"<c>{name}</c>", StringComparison.Ordinal), $"{name} is not in AddRecursiveLanguageModel's list of keys");
            Assert.True(options.Contains($"`{name}`", StringComparison.Ordinal), $"{name} is not in README's \"Options (defaults)\"");
        });
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Rlm.Tools.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Rlm.Tools.sln) was not found.");
    }
}
