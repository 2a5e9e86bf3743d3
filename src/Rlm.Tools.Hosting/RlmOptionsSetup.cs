using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Rlm.Tools.Hosting;

/// <summary>Copies the configuration section into the default <see cref="RlmOptions"/>.</summary>
internal sealed class RlmConfigureOptions(IConfiguration? section) : IConfigureOptions<RlmOptions>
{
    public void Configure(RlmOptions options)
    {
        if (section is not null)
        {
            RlmConfigurationBinding.Apply(section, options, errors: null);
        }
    }
}

/// <summary>
/// Validates the default <see cref="RlmOptions"/> at start-up (<c>ValidateOnStart</c>): every setting of the configuration
/// section must be one its setter accepts.
/// </summary>
internal sealed class RlmValidateOptions(IConfiguration? section) : IValidateOptions<RlmOptions>
{
    public ValidateOptionsResult Validate(string? name, RlmOptions options)
    {
        if (name != Options.DefaultName || section is null)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        RlmConfigurationBinding.Apply(section, new RlmOptions(), errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Fails start-up when no root chat client is registered (neither keyed <see cref="RlmServiceKeys.Root"/> nor unkeyed).</summary>
internal sealed class RlmRootClientValidation(IServiceProvider services) : IValidateOptions<RlmOptions>
{
    internal const string Message =
        "No root chat client is registered for the Recursive Language Model: call UseRootChatClient(…) on the builder " +
        "returned by AddRecursiveLanguageModel(…), or register an IChatClient keyed \"" + RlmServiceKeys.Root + "\" " +
        "(AddKeyedChatClient(RlmServiceKeys.Root, …)) or an unkeyed one (AddChatClient(…)).";

    public ValidateOptionsResult Validate(string? name, RlmOptions options)
    {
        if (name != Options.DefaultName)
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

        return (isService is IServiceProviderIsKeyedService isKeyed && isKeyed.IsKeyedService(typeof(IChatClient), RlmServiceKeys.Root))
            || isService.IsService(typeof(IChatClient));
    }
}

/// <summary>
/// Takes what the container offers (its <see cref="TimeProvider"/>, <c>ILoggerFactory</c>, and itself as the custom tools'
/// <see cref="RlmOptions.Services"/>) unless the options already have their own.
/// </summary>
internal sealed class RlmServicesConfigureOptions(IServiceProvider services) : IConfigureOptions<RlmOptions>
{
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
