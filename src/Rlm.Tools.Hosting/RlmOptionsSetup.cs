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
/// section must be one its setter accepts, and a root chat client must be registered.
/// </summary>
internal sealed class RlmValidateOptions(IConfiguration? section, IServiceProvider services) : IValidateOptions<RlmOptions>
{
    public ValidateOptionsResult Validate(string? name, RlmOptions options)
    {
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        if (section is not null)
        {
            RlmConfigurationBinding.Apply(section, new RlmOptions(), errors);
        }

        if (!HasRootClient(services))
        {
            errors.Add(
                $"No root chat client is registered for the Recursive Language Model: call UseRootChatClient(…) on the builder " +
                $"returned by AddRecursiveLanguageModel(…), or register an IChatClient keyed \"{RlmServiceKeys.Root}\" " +
                "(AddKeyedChatClient(RlmServiceKeys.Root, …)) or an unkeyed one (AddChatClient(…)).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    internal static bool HasRootClient(IServiceProvider services)
    {
        if (services.GetService<IServiceProviderIsService>() is not { } isService)
        {
            return true; // a container that cannot tell: resolution will say
        }

        return (isService is IServiceProviderIsKeyedService isKeyed && isKeyed.IsKeyedService(typeof(IChatClient), RlmServiceKeys.Root))
            || isService.IsService(typeof(IChatClient));
    }
}
