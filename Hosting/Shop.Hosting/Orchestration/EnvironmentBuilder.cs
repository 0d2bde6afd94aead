using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Orchestration;

/// <summary>Runs a resource's environment and argument callbacks and resolves their late-bound values.</summary>
internal static class EnvironmentBuilder
{
    public static async Task<ResolvedEnvironment> BuildAsync(
        IResource resource, int replicaIndex, DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken)
    {
        var context = new EnvironmentCallbackContext(executionContext, resource, replicaIndex, cancellationToken);
        foreach (var callback in resource.AnnotationsOf<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in context.EnvironmentVariables)
        {
            environment[name] = await ResolveAsync(value, cancellationToken);
            if (ValueOrigins.Of(value) switch { ValueOrigin.Secret => true, ValueOrigin.Plain => false, _ => SecretNames.IsSecret(name) })
            {
                secrets.Add(name);
            }
        }

        return new ResolvedEnvironment(environment, secrets);
    }

    public static async Task<IReadOnlyList<string>> BuildArgumentsAsync(
        IResource resource, DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken)
    {
        var context = new CommandLineArgsCallbackContext(executionContext, resource, cancellationToken);
        foreach (var callback in resource.AnnotationsOf<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var arguments = new List<string>(context.Args.Count);
        foreach (var argument in context.Args)
        {
            arguments.Add(await ResolveAsync(argument, cancellationToken));
        }

        return arguments;
    }

    private static async Task<string> ResolveAsync(object value, CancellationToken cancellationToken) => value switch
    {
        string text => text,
        IValueProvider provider => await provider.GetValueAsync(cancellationToken) ?? string.Empty,
        IResourceBuilder<IResource> { Resource: IValueProvider provider } => await provider.GetValueAsync(cancellationToken) ?? string.Empty,
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
    };
}

/// <summary>A resource's environment, resolved, and which of its variables hold secrets (the dashboard masks those).</summary>
internal sealed class ResolvedEnvironment(IDictionary<string, string> variables, IReadOnlySet<string> secrets)
    : System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(variables)
{
    public bool IsSecret(string name) => secrets.Contains(name);
}

/// <summary>Where a value comes from; ordered so that an expression's origin is the greatest of its parts' origins.</summary>
internal enum ValueOrigin
{
    /// <summary>Only non-secret sources: plain parameters, endpoints.</summary>
    Plain,

    /// <summary>A literal, or a value provider the hosting layer does not know: the variable's name decides.</summary>
    Unknown,

    /// <summary>A secret parameter or a configured connection string, alone or inside an expression.</summary>
    Secret,
}

/// <summary>Where an environment value comes from, followed through expressions, as the Kubernetes publisher does.</summary>
internal static class ValueOrigins
{
    public static ValueOrigin Of(object value) => value switch
    {
        ParameterResource parameter => parameter.Secret ? ValueOrigin.Secret : ValueOrigin.Plain,
        // An existing server's connection string may hold its password.
        ConfigurationValue => ValueOrigin.Secret,
        EndpointReference or EndpointReference.EndpointPropertyValue => ValueOrigin.Plain,
        // Literal parts do not count: a secret part makes it secret, an unknown one leaves it to the name; literals alone are unknown.
        ReferenceExpression expression => expression.Parts.Where(part => part is not string).Select(Of).DefaultIfEmpty(ValueOrigin.Unknown).Max(),
        IResourceBuilder<IResource> { Resource: IValueProvider provider } => Of(provider),
        _ => ValueOrigin.Unknown,
    };
}

/// <summary>
/// The fallback for values of unknown origin: whether a variable's name says it holds a secret. Only the end of its
/// last part counts, so <c>Identity__AccessToken</c> is a secret and <c>Identity__AccessTokenLifetime</c> is not.
/// </summary>
internal static class SecretNames
{
    private static readonly string[] SecretEndings = ["PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "KEY", "CREDENTIALS", "OTLP_HEADERS"];

    public static bool IsSecret(string name)
    {
        // A connection string typed in as a literal may hold a password.
        if (name.StartsWith(KnownConfigNames.ConnectionStringsSection + "__", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var separator = name.LastIndexOf("__", StringComparison.Ordinal);
        var lastPart = separator < 0 ? name : name[(separator + 2)..];
        return SecretEndings.Any(ending => lastPart.EndsWith(ending, StringComparison.OrdinalIgnoreCase));
    }
}

internal static class ResourceTypes
{
    /// <summary>The type name shown for a resource: <c>PostgresServerResource</c> → <c>PostgresServer</c>.</summary>
    public static string NameOf(IResource resource)
    {
        var name = resource.GetType().Name;
        return name.EndsWith("Resource", StringComparison.Ordinal) && name.Length > "Resource".Length ? name[..^"Resource".Length] : name;
    }
}
