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
/// <c>WorkerSystemPrompt</c>, <c>LeafSystemPrompt</c>, <c>RedactedValues</c>. Other keys of the section are ignored; an empty
/// value keeps the default. Objects (<see cref="RlmOptions.Progress"/>, <see cref="RlmOptions.ConcurrencyLimiter"/>, …) are
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
            services.AddSingleton<IConfigureOptions<RlmOptions>>(sp => new RlmConfigureOptions(section(sp)));
            services.AddSingleton<IValidateOptions<RlmOptions>>(sp => new RlmValidateOptions(section(sp)));
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RlmOptions>, RlmServicesConfigureOptions>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RlmOptions>, RlmRootClientValidation>());
        services.TryAddSingleton(Create);
        return new RlmBuilder(services);
    }

    private static IConfiguration? DefaultSection(IServiceProvider services) =>
        services.GetService<IConfiguration>()?.GetSection(RlmServiceKeys.ConfigurationSection);

    private static RecursiveLanguageModel Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<RlmOptions>>().Value;
        var root = services.GetKeyedService<IChatClient>(RlmServiceKeys.Root)
            ?? services.GetService<IChatClient>()
            ?? throw new InvalidOperationException(RlmRootClientValidation.Message);
        var worker = services.GetKeyedService<IChatClient>(RlmServiceKeys.Worker);
        return new RecursiveLanguageModel(root, worker, options);
    }
}
