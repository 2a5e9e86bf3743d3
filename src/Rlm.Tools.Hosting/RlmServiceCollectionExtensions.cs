using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rlm.Tools;
using Rlm.Tools.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a <see cref="RecursiveLanguageModel"/> with an <see cref="IServiceCollection"/>. The class lives in the
/// <c>Microsoft.Extensions.DependencyInjection</c> namespace, as M.E.AI's <c>AddChatClient</c> does, so no extra
/// <c>using</c> is needed; the other types are in <c>Rlm.Tools.Hosting</c>.
/// </summary>
/// <remarks>
/// <para>The model is a singleton built from:</para>
/// <list type="bullet">
/// <item><description>the root model: the <see cref="IChatClient"/> keyed <see cref="RlmServiceKeys.Root"/> (<c>"rlm-root"</c>), or else the unkeyed <see cref="IChatClient"/>;</description></item>
/// <item><description>the worker model: the <see cref="IChatClient"/> keyed <see cref="RlmServiceKeys.Worker"/> (<c>"rlm-worker"</c>), or else the root model;</description></item>
/// <item><description><see cref="IOptions{TOptions}"/> of <see cref="RlmOptions"/>: the configuration section (<c>Rlm</c> of the host's
/// <see cref="IConfiguration"/> unless another is given), then the container's <see cref="TimeProvider"/> if one is registered,
/// then the <c>Configure</c> actions in the order they were added.</description></item>
/// </list>
/// <para>Configuration keys are the names of the <see cref="RlmOptions"/> properties with numbers, booleans
/// (<c>true</c>/<c>false</c>), time spans (<c>"00:00:30"</c>, hh:mm:ss), strings or a list of strings (<see cref="RlmOptions.RedactedValues"/>): <c>MaxIterations</c>,
/// <c>MaxDepth</c>, <c>MaxConcurrency</c>, <c>MaxSubCalls</c>, <c>MaxToolOutputChars</c>, <c>MaxLeafChars</c>,
/// <c>MaxConversationChars</c>, <c>CompactConversations</c>, <c>CompactionTargetPercent</c>, <c>MemoizeSubCalls</c>, <c>MaxFunctionCallsPerReply</c>, <c>MaxTraceNodes</c>, <c>RegexTimeout</c>, <c>JavaScriptTimeout</c>, <c>JavaScriptMaxStatements</c>,
/// <c>JavaScriptMaxRecursionDepth</c>, <c>JavaScriptMemoryLimitBytes</c>, <c>ModelRequestTimeout</c>, <c>StreamRootResponses</c>, <c>MaxModelRetries</c>,
/// <c>ModelRetryBaseDelay</c>, <c>ModelRetryMaxDelay</c>, <c>RootModelId</c>, <c>WorkerModelId</c>, <c>RootSystemPrompt</c>,
/// <c>WorkerSystemPrompt</c>, <c>LeafSystemPrompt</c>, <c>RedactedValues</c>, <c>MaxTotalTokens</c>, <c>MaxCostUsd</c>,
/// <c>MaxWallTime</c>, <c>MaxConsecutiveErrors</c>, <c>SubCallOutputReserveTokens</c>, <c>MaxAnswerFormatRetries</c>,
/// <c>AutoSplitOversizedSubCalls</c>. Any other key of the section (a typo such as <c>Rlm:MaxDepht</c>) fails
/// start-up naming it and the nearest setting, except the sub-sections of models registered with
/// <see cref="AddKeyedRecursiveLanguageModel(IServiceCollection, object)"/> (<c>Rlm:&lt;key&gt;</c>); an empty
/// value keeps the default. Objects (<see cref="RlmOptions.Progress"/>, <see cref="RlmOptions.ConcurrencyLimiter"/>, <see cref="RlmOptions.SubCallCache"/>, …) are
/// set in code with <see cref="RlmBuilder.Configure(Action{RlmOptions})"/>.</para>
/// <para>The options are validated when the host starts (<c>ValidateOnStart</c>): a value out of range or of the wrong
/// form fails start-up with an <see cref="OptionsValidationException"/> whose messages name the setting, for example
/// <c>Rlm:MaxDepth must be a whole number between 1 and 8 (got '12').</c>, and so does a container without a root chat
/// client. Without a host, resolving <see cref="RecursiveLanguageModel"/> runs the same validation.</para>
/// </remarks>
public static class RlmServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="RecursiveLanguageModel"/> whose options are bound from the <c>Rlm</c> section of the container's <see cref="IConfiguration"/> (if any).</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to register the root and worker chat clients and configure options in code.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static RlmBuilder AddRecursiveLanguageModel(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return AddCore(services, section: null);
    }

    /// <summary>Registers a singleton <see cref="RecursiveLanguageModel"/> whose options are bound from the <c>Rlm</c> section of the container's <see cref="IConfiguration"/> (if any), then set by <paramref name="configure"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, after the configuration is bound.</param>
    /// <returns>A builder to register the root and worker chat clients and configure options in code.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    public static RlmBuilder AddRecursiveLanguageModel(this IServiceCollection services, Action<RlmOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddRecursiveLanguageModel().Configure(configure);
    }

    /// <summary>Registers a singleton <see cref="RecursiveLanguageModel"/> whose options are bound from <paramref name="configuration"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding the settings, for example <c>builder.Configuration.GetSection("Rlm")</c> (as with <c>services.Configure&lt;T&gt;(IConfiguration)</c>, it is bound itself, not its <c>Rlm</c> child). Messages name settings by its path.</param>
    /// <returns>A builder to register the root and worker chat clients and configure options in code.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    public static RlmBuilder AddRecursiveLanguageModel(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, _ => configuration);
    }

    /// <summary>
    /// Registers one more <see cref="RecursiveLanguageModel"/>, a keyed singleton under <paramref name="serviceKey"/>
    /// (resolve it with <c>GetRequiredKeyedService&lt;RecursiveLanguageModel&gt;(key)</c> or <c>[FromKeyedServices(key)]</c>), so
    /// that several models with their own clients and options live in one container. Its options are named
    /// <c>serviceKey.ToString()</c> and bound from the section <c>Rlm:&lt;key&gt;</c> of the container's configuration; its
    /// root model is the client set with the returned builder's <see cref="RlmBuilder.UseRootChatClient(IChatClient)"/>, else an
    /// <see cref="IChatClient"/> keyed <paramref name="serviceKey"/> itself, else the unkeyed model's root; its worker is the
    /// builder's <see cref="RlmBuilder.UseWorkerChatClient(IChatClient)"/>, else its root.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key of the model; its text names the options and the configuration section.</param>
    /// <returns>A builder for this model's clients and options.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="serviceKey"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="serviceKey"/>'s text is empty, or a model is already registered under it.</exception>
    public static RlmBuilder AddKeyedRecursiveLanguageModel(this IServiceCollection services, object serviceKey)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        string name = KeyName(serviceKey);
        return AddKeyedCore(services, serviceKey, name, sp => sp.GetService<IConfiguration>()?.GetSection(RlmServiceKeys.ConfigurationSection).GetSection(name));
    }

    /// <summary>As <see cref="AddKeyedRecursiveLanguageModel(IServiceCollection, object)"/>, then sets this model's options with <paramref name="configure"/> (after its configuration is bound).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key of the model; its text names the options and the configuration section.</param>
    /// <param name="configure">Sets this model's options in code.</param>
    /// <returns>A builder for this model's clients and options.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="serviceKey"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="serviceKey"/>'s text is empty, or a model is already registered under it.</exception>
    public static RlmBuilder AddKeyedRecursiveLanguageModel(this IServiceCollection services, object serviceKey, Action<RlmOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddKeyedRecursiveLanguageModel(serviceKey).Configure(configure);
    }

    /// <summary>As <see cref="AddKeyedRecursiveLanguageModel(IServiceCollection, object)"/>, with its options bound from <paramref name="configuration"/> instead of <c>Rlm:&lt;key&gt;</c>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key of the model; its text names the options.</param>
    /// <param name="configuration">The section holding this model's settings (bound itself, not a child of it).</param>
    /// <returns>A builder for this model's clients and options.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="serviceKey"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="serviceKey"/>'s text is empty, or a model is already registered under it.</exception>
    public static RlmBuilder AddKeyedRecursiveLanguageModel(this IServiceCollection services, object serviceKey, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddKeyedCore(services, serviceKey, KeyName(serviceKey), _ => configuration);
    }

    private static string KeyName(object serviceKey)
    {
        string? name = serviceKey.ToString();
        ArgumentException.ThrowIfNullOrWhiteSpace(name, nameof(serviceKey));
        return name;
    }

    private static RlmBuilder AddKeyedCore(IServiceCollection services, object serviceKey, string name, Func<IServiceProvider, IConfiguration?> section)
    {
        if (services.Any(d => d.ServiceType == typeof(RlmKeyedMarker) && d.ImplementationInstance is RlmKeyedMarker m && Equals(m.ServiceKey, serviceKey)))
        {
            throw new ArgumentException($"A Recursive Language Model is already registered under the key '{name}'.", nameof(serviceKey));
        }

        services.AddSingleton(new RlmKeyedMarker(serviceKey, name));
        services.AddOptions<RlmOptions>(name).ValidateOnStart();
        services.AddSingleton<IConfigureOptions<RlmOptions>>(sp => new RlmConfigureOptions(name, section(sp)));
        services.AddSingleton<IValidateOptions<RlmOptions>>(sp => new RlmValidateOptions(name, section(sp), subsections: null));
        services.AddSingleton<IValidateOptions<RlmOptions>>(sp => new RlmRootClientValidation(sp, serviceKey, name));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RlmOptions>, RlmServicesConfigureOptions>());
        services.AddKeyedSingleton(serviceKey, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<RlmOptions>>().Get(name);
            var root = sp.GetKeyedService<IChatClient>(RlmServiceKeys.RootOf(serviceKey))
                ?? sp.GetKeyedService<IChatClient>(serviceKey)
                ?? DefaultRoot(sp);
            var worker = sp.GetKeyedService<IChatClient>(RlmServiceKeys.WorkerOf(serviceKey));
            return new RecursiveLanguageModel(root, worker, options);
        });
        return new RlmBuilder(services, serviceKey, name);
    }

    private static RlmBuilder AddCore(IServiceCollection services, Func<IServiceProvider, IConfiguration?>? section)
    {
        services.AddOptions<RlmOptions>().ValidateOnStart();
        if (section is null)
        {
            // The default section: bound once however often AddRecursiveLanguageModel() is called.
            if (!services.Any(d => d.ServiceType == typeof(RlmDefaultSectionMarker)))
            {
                services.AddSingleton<RlmDefaultSectionMarker>();
                section = DefaultSection;
            }
        }

        if (section is not null)
        {
            services.AddSingleton<IConfigureOptions<RlmOptions>>(sp => new RlmConfigureOptions(Microsoft.Extensions.Options.Options.DefaultName, section(sp)));
            services.AddSingleton<IValidateOptions<RlmOptions>>(sp => new RlmValidateOptions(Microsoft.Extensions.Options.Options.DefaultName, section(sp),
                [.. sp.GetServices<RlmKeyedMarker>().Select(m => m.Name)]));
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RlmOptions>, RlmServicesConfigureOptions>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RlmOptions>, RlmRootClientValidation>());
        services.TryAddSingleton(Create);
        return new RlmBuilder(services, serviceKey: null, Microsoft.Extensions.Options.Options.DefaultName);
    }

    private static IConfiguration? DefaultSection(IServiceProvider services) =>
        services.GetService<IConfiguration>()?.GetSection(RlmServiceKeys.ConfigurationSection);

    private static RecursiveLanguageModel Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<RlmOptions>>().Value;
        var root = DefaultRoot(services);
        var worker = services.GetKeyedService<IChatClient>(RlmServiceKeys.Worker);
        return new RecursiveLanguageModel(root, worker, options);
    }

    private static IChatClient DefaultRoot(IServiceProvider services) =>
        services.GetKeyedService<IChatClient>(RlmServiceKeys.Root)
            ?? services.GetService<IChatClient>()
            ?? throw new InvalidOperationException(RlmRootClientValidation.Message);
}
