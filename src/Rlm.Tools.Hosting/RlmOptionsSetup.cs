using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Rlm.Tools.Hosting;

/// <summary>Copies the configuration section into the <see cref="RlmOptions"/> named <paramref name="optionsName"/> (a keyed model's, or the default).</summary>
internal sealed class RlmConfigureOptions(string optionsName, IConfiguration? section) : IConfigureNamedOptions<RlmOptions>
{
    public void Configure(RlmOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, RlmOptions options)
    {
        if (section is not null && (name ?? Options.DefaultName) == optionsName)
        {
            RlmConfigurationBinding.Apply(section, options, errors: null);
        }
    }
}

/// <summary>
/// Validates the default <see cref="RlmOptions"/> at start-up (<c>ValidateOnStart</c>): every setting of the configuration
/// section must be one its setter accepts.
/// </summary>
internal sealed class RlmValidateOptions(string optionsName, IConfiguration? section, IReadOnlyCollection<string>? subsections) : IValidateOptions<RlmOptions>
{
    public ValidateOptionsResult Validate(string? name, RlmOptions options)
    {
        if ((name ?? Options.DefaultName) != optionsName || section is null)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        RlmConfigurationBinding.Apply(section, new RlmOptions(), errors, subsections);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// Fails start-up when no root chat client is registered (neither keyed <see cref="RlmServiceKeys.Root"/> nor unkeyed; for
/// a keyed model, nor under <see cref="RlmServiceKeys.RootOf"/> or its own key).
/// </summary>
internal sealed class RlmRootClientValidation(IServiceProvider services, object? serviceKey, string optionsName) : IValidateOptions<RlmOptions>
{
    public RlmRootClientValidation(IServiceProvider services)
        : this(services, serviceKey: null, Options.DefaultName)
    {
    }

    internal const string Message =
        "No root chat client is registered for the Recursive Language Model: call UseRootChatClient(…) on the builder " +
        "returned by AddRecursiveLanguageModel(…), or register an IChatClient keyed \"" + RlmServiceKeys.Root + "\" " +
        "(AddKeyedChatClient(RlmServiceKeys.Root, …)) or an unkeyed one (AddChatClient(…)).";

    public ValidateOptionsResult Validate(string? name, RlmOptions options)
    {
        if ((name ?? Options.DefaultName) != optionsName)
        {
            return ValidateOptionsResult.Skip;
        }

        return HasRootClient() ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(Message);
    }

    private bool HasRootClient()
    {
        if (services.GetService<IServiceProviderIsService>() is not { } isService)
        {
            return true; // a container that cannot tell: resolution will say
        }

        var isKeyed = isService as IServiceProviderIsKeyedService;
        return (serviceKey is not null && isKeyed is not null
                && (isKeyed.IsKeyedService(typeof(IChatClient), RlmServiceKeys.RootOf(serviceKey)) || isKeyed.IsKeyedService(typeof(IChatClient), serviceKey)))
            || (isKeyed?.IsKeyedService(typeof(IChatClient), RlmServiceKeys.Root) ?? false)
            || isService.IsService(typeof(IChatClient));
    }
}

/// <summary>
/// Takes what the container offers (its <see cref="TimeProvider"/>, <c>ILoggerFactory</c>, and itself as the custom tools'
/// <see cref="RlmOptions.Services"/>) unless the options already have their own.
/// </summary>
internal sealed class RlmServicesConfigureOptions(IServiceProvider services) : IConfigureNamedOptions<RlmOptions>
{
    public void Configure(string? name, RlmOptions options) => Configure(options); // every model's options, keyed or not

    public void Configure(RlmOptions options)
    {
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && services.GetService<TimeProvider>() is { } timeProvider)
        {
            options.TimeProvider = timeProvider;
        }

        options.LoggerFactory ??= services.GetService<Microsoft.Extensions.Logging.ILoggerFactory>();
        options.Services ??= services;
    }
}

/// <summary>Marks that the default section (<c>Rlm</c> of the container's configuration) is bound, so that it is bound once.</summary>
internal sealed class RlmDefaultSectionMarker;

/// <summary>Marks a keyed model: its key, and the name of its options and of its sub-section of <c>Rlm</c>.</summary>
internal sealed record RlmKeyedMarker(object ServiceKey, string Name);
