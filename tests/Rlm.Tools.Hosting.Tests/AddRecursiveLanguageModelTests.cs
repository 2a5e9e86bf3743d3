using System.Reflection;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Rlm.Tools.Hosting;

namespace Rlm.Tools.Hosting.Tests;

public sealed class AddRecursiveLanguageModelTests
{
    private const string Context = """
        2024-05-01 10:00:01 INFO service started
        2024-05-01 10:00:02 INFO listening on port 8080
        2024-05-01 10:03:17 ERROR database connection refused: host db-primary
        2024-05-01 10:03:18 INFO retrying
        """;

    private static HostApplicationBuilder NewBuilder(Dictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        return builder;
    }

    [Fact]
    public async Task Host_resolves_the_model_and_answers_offline_with_the_keyed_root_and_worker()
    {
        var root = new RecordingChatClient(new OfflineChatClient());
        var worker = new RecordingChatClient(new OfflineChatClient());
        var unkeyed = new RecordingChatClient(new OfflineChatClient());
        var builder = NewBuilder();
        builder.Services.AddChatClient(unkeyed);
        builder.Services.AddRecursiveLanguageModel()
            .UseRootChatClient(root)
            .UseWorkerChatClient(worker);

        using var host = builder.Build();
        await host.StartAsync();
        var rlm = host.Services.GetRequiredService<RecursiveLanguageModel>();
        var result = await rlm.QueryAsync("Which host refused the database connection?", Context);
        await host.StopAsync();

        Assert.StartsWith(OfflineChatClient.AnswerPrefix, result.Answer, StringComparison.Ordinal);
        Assert.Contains("db-primary", result.Answer, StringComparison.Ordinal);
        Assert.True(root.Calls > 0);
        Assert.True(worker.Calls > 0, "the offline root fans out sub_llm calls, which go to the worker");
        Assert.Equal(0, unkeyed.Calls);
        Assert.Same(rlm, host.Services.GetRequiredService<RecursiveLanguageModel>());
    }

    [Fact]
    public void Without_a_keyed_root_the_unkeyed_client_is_root_and_worker()
    {
        var unkeyed = new OfflineChatClient();
        var services = new ServiceCollection();
        services.AddChatClient(unkeyed);
        services.AddRecursiveLanguageModel();

        using var provider = services.BuildServiceProvider();
        var rlm = provider.GetRequiredService<RecursiveLanguageModel>();

        Assert.Same(rlm.RootClient, rlm.WorkerClient);
        Assert.Same(unkeyed, rlm.RootClient.GetService<OfflineChatClient>());
    }

    [Fact]
    public void Keyed_registrations_made_with_MEAI_directly_are_used()
    {
        var root = new OfflineChatClient();
        var worker = new OfflineChatClient();
        var services = new ServiceCollection();
        services.AddKeyedChatClient(RlmServiceKeys.Root, root);
        services.AddKeyedChatClient(RlmServiceKeys.Worker, worker);
        services.AddRecursiveLanguageModel();

        using var provider = services.BuildServiceProvider();
        var rlm = provider.GetRequiredService<RecursiveLanguageModel>();

        Assert.Same(root, rlm.RootClient.GetService<OfflineChatClient>());
        Assert.Same(worker, rlm.WorkerClient.GetService<OfflineChatClient>());
        Assert.Equal("rlm-root", RlmServiceKeys.Root);
        Assert.Equal("rlm-worker", RlmServiceKeys.Worker);
    }

    [Fact]
    public void The_pipeline_callback_wraps_the_root_client()
    {
        var services = new ServiceCollection();
        services.AddRecursiveLanguageModel()
            .UseRootChatClient(_ => new OfflineChatClient(), pipeline => pipeline.Use(inner => new RecordingChatClient(inner)));

        using var provider = services.BuildServiceProvider();
        var rlm = provider.GetRequiredService<RecursiveLanguageModel>();

        Assert.IsType<RecordingChatClient>(rlm.RootClient);
        Assert.Same(rlm.RootClient, rlm.WorkerClient);
    }

    [Fact]
    public async Task Configuration_values_land_in_the_options_and_code_overrides_them()
    {
        var builder = NewBuilder(new()
        {
            ["Rlm:MaxDepth"] = "2",
            ["Rlm:MaxIterations"] = "12",
            ["Rlm:MaxSubCalls"] = "40",
            ["Rlm:JavaScriptMemoryLimitBytes"] = "268435456",
            ["Rlm:ModelRequestTimeout"] = "00:00:30",
            ["Rlm:JavaScriptTimeout"] = "00:00:05",
            ["Rlm:RootModelId"] = "big-model",
            ["Rlm:WorkerModelId"] = "small-model",
            ["Rlm:RedactedValues:0"] = "secret-one",
            ["Rlm:RedactedValues:1"] = "secret-two",
            ["Rlm:maxconcurrency"] = "3",
            ["Rlm:MaxLeafChars"] = "",
            ["Rlm:MaxCostUsd"] = "0.75",
            ["Rlm:MaxWallTime"] = "00:02:00",
            ["Rlm:MaxTotalTokens"] = "500000",
            ["Rlm:CompactConversations"] = "false",
            ["Rlm:CompactionTargetPercent"] = "30",
            ["Rlm:MemoizeSubCalls"] = " False ",
            ["Rlm:StreamRootResponses"] = "False",
            ["Rlm:AutoSplitOversizedSubCalls"] = "true",
        });
        builder.Services.AddRecursiveLanguageModel(o => o.MaxIterations = 7).UseRootChatClient(new OfflineChatClient());

        using var host = builder.Build();
        await host.StartAsync();
        var options = host.Services.GetRequiredService<RecursiveLanguageModel>().Options;
        await host.StopAsync();

        Assert.Equal(2, options.MaxDepth);
        Assert.Equal(7, options.MaxIterations);
        Assert.False(options.CompactConversations);
        Assert.Equal(30, options.CompactionTargetPercent);
        Assert.False(options.MemoizeSubCalls);
        Assert.Equal(40, options.MaxSubCalls);
        Assert.Equal(3, options.MaxConcurrency);
        Assert.Equal(256L * 1024 * 1024, options.JavaScriptMemoryLimitBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ModelRequestTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.JavaScriptTimeout);
        Assert.Equal("big-model", options.RootModelId);
        Assert.Equal("small-model", options.WorkerModelId);
        Assert.Equal(["secret-one", "secret-two"], options.RedactedValues);
        Assert.Equal(new RlmOptions().MaxLeafChars, options.MaxLeafChars);
        Assert.Equal(0.75m, options.MaxCostUsd);
        Assert.Equal(TimeSpan.FromMinutes(2), options.MaxWallTime);
        Assert.Equal(500_000L, options.MaxTotalTokens);
        Assert.False(options.StreamRootResponses);
        Assert.True(options.AutoSplitOversizedSubCalls);
    }

    [Fact]
    public async Task An_explicit_section_is_bound_and_named_in_messages()
    {
        var builder = NewBuilder(new() { ["Agents:Research:MaxDepth"] = "3", ["Agents:Research:MaxSubCalls"] = "0" });
        builder.Services.AddRecursiveLanguageModel(builder.Configuration.GetSection("Agents:Research")).UseRootChatClient(new OfflineChatClient());

        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(["Agents:Research:MaxSubCalls must be a whole number of at least 1 (got '0')."], error.Failures);
    }

    [Theory]
    [InlineData("MaxDepth", "12", "Rlm:MaxDepth must be a whole number between 1 and 8 (got '12').")]
    [InlineData("MaxDepth", "two", "Rlm:MaxDepth must be a whole number between 1 and 8 (got 'two').")]
    [InlineData("MaxToolOutputChars", "100", "Rlm:MaxToolOutputChars must be a whole number of at least 200 (got '100').")]
    [InlineData("MaxModelRetries", "-1", "Rlm:MaxModelRetries must be a whole number between 0 and 20 (got '-1').")]
    [InlineData("JavaScriptMemoryLimitBytes", "1000", "Rlm:JavaScriptMemoryLimitBytes must be a whole number of bytes of at least 1048576 (1 MiB) (got '1000').")]
    [InlineData("RegexTimeout", "00:00:00", "Rlm:RegexTimeout must be a positive time span such as 00:00:30 (hh:mm:ss) (got '00:00:00').")]
    [InlineData("JavaScriptTimeout", "30", "Rlm:JavaScriptTimeout must be a positive time span such as 00:00:30 (hh:mm:ss) (got '30').")]
    [InlineData("CompactConversations", "yes", "Rlm:CompactConversations must be true or false (got 'yes').")]
    [InlineData("CompactionTargetPercent", "95", "Rlm:CompactionTargetPercent must be a whole number between 10 and 90 (got '95').")]
    [InlineData("StreamRootResponses", "yes", "Rlm:StreamRootResponses must be true or false (got 'yes').")]
    [InlineData("ModelRequestTimeout", "2.00:00:00", "Rlm:ModelRequestTimeout must be a time span between 00:00:00.010 and 1.00:00:00 (one day) (got '2.00:00:00').")]
    public async Task Invalid_configuration_fails_at_start_naming_the_setting(string key, string value, string message)
    {
        var builder = NewBuilder(new() { ["Rlm:" + key] = value });
        builder.Services.AddRecursiveLanguageModel().UseRootChatClient(new OfflineChatClient());

        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal([message], error.Failures);
    }

    [Fact]
    public async Task Every_bad_setting_is_reported_at_once()
    {
        var builder = NewBuilder(new() { ["Rlm:MaxDepth"] = "0", ["Rlm:MaxConversationChars"] = "10", ["Rlm:MaxIterations:0"] = "5" });
        builder.Services.AddRecursiveLanguageModel().UseRootChatClient(new OfflineChatClient());

        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.StartsWith("Rlm:MaxDepth ", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Rlm:MaxConversationChars ", StringComparison.Ordinal));
        Assert.Contains("Rlm:MaxIterations must be a whole number of at least 1 (got a section instead of a value).", error.Failures);
    }

    [Fact]
    public async Task Calling_it_twice_registers_one_model_and_reports_each_error_once()
    {
        var builder = NewBuilder(new() { ["Rlm:MaxDepth"] = "0" });
        builder.Services.AddRecursiveLanguageModel().UseRootChatClient(new OfflineChatClient());
        builder.Services.AddRecursiveLanguageModel(o => o.MaxSubCalls = 9);

        Assert.Single(builder.Services, d => d.ServiceType == typeof(RecursiveLanguageModel));
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(["Rlm:MaxDepth must be a whole number between 1 and 8 (got '0')."], error.Failures);
    }

    [Fact]
    public async Task A_missing_root_client_fails_at_start()
    {
        var builder = NewBuilder();
        builder.Services.AddRecursiveLanguageModel();

        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(RlmServiceKeys.Root, Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_host_resolving_the_model_validates_too()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Rlm:MaxDepth"] = "9" }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddRecursiveLanguageModel().UseRootChatClient(new OfflineChatClient());

        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<RecursiveLanguageModel>());

        Assert.Contains("Rlm:MaxDepth must be a whole number between 1 and 8 (got '9').", error.Failures);
    }

    [Fact]
    public void The_container_time_provider_is_used_unless_code_sets_one()
    {
        var clock = new FixedTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddRecursiveLanguageModel().UseRootChatClient(new OfflineChatClient());

        using var provider = services.BuildServiceProvider();

        Assert.Same(clock, provider.GetRequiredService<RecursiveLanguageModel>().Options.TimeProvider);
    }

    [Fact]
    public void The_host_logger_factory_reaches_the_engine()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRecursiveLanguageModel().UseRootChatClient(new OfflineChatClient());

        using var provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>(), provider.GetRequiredService<RecursiveLanguageModel>().Options.LoggerFactory);
    }

    [Fact]
    public void Every_plain_option_is_a_configuration_setting()
    {
        // Object-valued options are set in code; every number, switch, time span, string or string list must be bindable.
        var bindable = typeof(RlmOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .Where(p => p.PropertyType == typeof(int) || p.PropertyType == typeof(long) || p.PropertyType == typeof(bool) || p.PropertyType == typeof(TimeSpan)
                || p.PropertyType == typeof(string) || p.PropertyType == typeof(IList<string>)
                || p.PropertyType == typeof(long?) || p.PropertyType == typeof(decimal?) || p.PropertyType == typeof(TimeSpan?))
            .Select(p => p.Name)
            .Order();

        Assert.Equal(bindable, RlmConfigurationBinding.SettingNames.Order());
    }

    [Fact]
    public void Every_setting_is_bound_from_configuration()
    {
        // A valid value other than the default for each setting, written as configuration text: each must land.
        var defaults = new RlmOptions();
        var settings = new Dictionary<string, string?>();
        var expected = new Dictionary<string, object>();
        foreach (var name in RlmConfigurationBinding.SettingNames)
        {
            var property = typeof(RlmOptions).GetProperty(name)!;
            object? current = property.GetValue(defaults);
            (string text, object value) = current switch
            {
                int n => ((n + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), (object)(n + 1)),
                long n => ((n + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), n + 1),
                bool b => ((!b).ToString(), !b),
                TimeSpan t => ((t + TimeSpan.FromSeconds(1)).ToString("c"), t + TimeSpan.FromSeconds(1)),
                IList<string> => ("only-value", new[] { "only-value" }),
                null when property.PropertyType == typeof(long?) => ("1000", 1000L),
                null when property.PropertyType == typeof(decimal?) => ("0.5", 0.5m),
                null when property.PropertyType == typeof(TimeSpan?) => ("00:01:00", TimeSpan.FromMinutes(1)),
                null or string => ("text-" + name, "text-" + name),
                _ => throw new InvalidOperationException($"No test value for {name}."),
            };
            settings["Rlm:" + name] = text;
            expected[name] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = new RlmOptions();
        var errors = new List<string>();
        RlmConfigurationBinding.Apply(configuration.GetSection("Rlm"), options, errors);

        Assert.Empty(errors);
        Assert.True(expected.Count >= 25, $"only {expected.Count} settings");
        foreach (var (name, value) in expected)
        {
            object? actual = typeof(RlmOptions).GetProperty(name)!.GetValue(options);
            Assert.True(value is string[] list ? list.SequenceEqual((IEnumerable<string>)actual!) : Equals(value, actual), $"{name}: expected {value}, got {actual}");
        }
    }

    private sealed class FixedTimeProvider : TimeProvider;

    private sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
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
}
