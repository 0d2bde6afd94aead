using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Orchestration;

/// <summary>Runs a resource's environment and argument callbacks and resolves their late-bound values.</summary>
internal static class EnvironmentBuilder
{
    public static async Task<IReadOnlyDictionary<string, string>> BuildAsync(
        IResource resource, int replicaIndex, DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken)
    {
        var context = new EnvironmentCallbackContext(executionContext, resource, replicaIndex, cancellationToken);
        foreach (var callback in resource.AnnotationsOf<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in context.EnvironmentVariables)
        {
            environment[name] = await ResolveAsync(value, cancellationToken);
        }

        return environment;
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

/// <summary>Which environment variables hold secrets, so the dashboard masks them.</summary>
internal static class SecretNames
{
    private static readonly string[] SecretWords = ["PASSWORD", "SECRET", "TOKEN", "APIKEY", "API_KEY", "OTLP_HEADERS", "CONNECTIONSTRINGS__"];

    public static bool IsSecret(string name) =>
        SecretWords.Any(word => name.Contains(word, StringComparison.OrdinalIgnoreCase));
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
