using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

public static class ParameterResourceBuilderExtensions
{
    /// <summary>
    /// A parameter read from <c>Parameters:{name}</c>. A missing secret is generated once and kept in the AppHost's
    /// user secrets (outside the repository), so it stays the same from run to run; a missing plain value is an error.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, bool secret = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResourceNames.Validate(name);
        var key = KnownConfigNames.Parameter(name);
        return builder.AddResource(new ParameterResource(name, () =>
            builder.Configuration[key] is { Length: > 0 } configured
                ? configured
                : secret
                    ? GenerateSecret(builder, key)
                    : throw new DistributedApplicationException(
                        $"Parameter '{name}' has no value: set '{key}' in the AppHost's configuration (appsettings.json, user secrets, or the environment variable Parameters__{name})."),
            secret));
    }

    /// <summary>A parameter with a default used when <c>Parameters:{name}</c> is not set.</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, string value, bool secret = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(value);
        ResourceNames.Validate(name);
        var key = KnownConfigNames.Parameter(name);
        return builder.AddResource(new ParameterResource(name, () => builder.Configuration[key] is { Length: > 0 } configured ? configured : value, secret));
    }

    /// <summary>Says what the parameter is for: shown to whoever has to set it (a published deployment's warnings).</summary>
    public static IResourceBuilder<ParameterResource> WithDescription(this IResourceBuilder<ParameterResource> builder, string description)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        builder.Resource.Description = description;
        return builder;
    }

    /// <summary>
    /// A connection string to an existing server, read from <c>ConnectionStrings:{name}</c> (Aspire's
    /// <c>AddConnectionString</c>). Nothing is started for it.
    /// </summary>
    public static IResourceBuilder<ConnectionStringResource> AddConnectionString(this IDistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResourceNames.Validate(name);
        return builder.AddResource(new ConnectionStringResource(name, builder.Configuration));
    }

    /// <summary>
    /// A secret parameter owned by an integration (e.g. a server password): generated when not configured. Not
    /// added to the model; the integration references it.
    /// </summary>
    internal static ParameterResource CreateGeneratedSecret(IDistributedApplicationBuilder builder, string name)
    {
        var key = KnownConfigNames.Parameter(name);
        return new ParameterResource(name, () => builder.Configuration[key] is { Length: > 0 } configured ? configured : GenerateSecret(builder, key), secret: true);
    }

    private static string GenerateSecret(IDistributedApplicationBuilder builder, string key)
    {
        var value = !builder.ExecutionContext.IsTesting && UserSecretsStore.PathOf(builder) is { } path
            ? UserSecretsStore.GetOrAdd(path, key, NewSecret)
            : NewSecret();
        builder.Configuration[key] = value;
        return value;
    }

    // Letters and digits only: the value goes into connection strings and command lines unquoted.
    private static string NewSecret() =>
        RandomNumberGenerator.GetString("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 24);
}
