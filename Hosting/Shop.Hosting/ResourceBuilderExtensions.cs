using System.Net;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting;

/// <summary>The <c>With…</c>/<c>WaitFor</c> vocabulary shared by every resource type, as in Aspire.</summary>
public static class ResourceBuilderExtensions
{
    private const int MaxReplicas = 64;

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, string? value)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.WithEnvironment(context => context.EnvironmentVariables[name] = value ?? string.Empty);
    }

    /// <summary>An environment variable whose value is computed when the process starts.</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, Func<string> value)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        return builder.WithEnvironment(context => context.EnvironmentVariables[name] = value());
    }

    /// <summary>An environment variable holding a late-bound value: an endpoint, a parameter, an expression.</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, IValueProvider value)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        if (value is EndpointReference endpoint)
        {
            builder.WithRelationship(endpoint.Resource, DependencyGraph.EnvironmentReference);
        }

        return builder.WithEnvironment(context => context.EnvironmentVariables[name] = value);
    }

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, IResourceBuilder<ParameterResource> parameter)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return builder.WithEnvironment(name, parameter.Resource);
    }

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, Action<EnvironmentCallbackContext> callback)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(callback);
        return builder.WithAnnotation(new EnvironmentCallbackAnnotation(context =>
        {
            callback(context);
            return Task.CompletedTask;
        }));
    }

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, Func<EnvironmentCallbackContext, Task> callback)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(callback);
        return builder.WithAnnotation(new EnvironmentCallbackAnnotation(callback));
    }

    public static IResourceBuilder<T> WithArgs<T>(this IResourceBuilder<T> builder, params string[] args) where T : IResourceWithArgs
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(args);
        return builder.WithArgs(context => context.Args.AddRange(args));
    }

    public static IResourceBuilder<T> WithArgs<T>(this IResourceBuilder<T> builder, Action<CommandLineArgsCallbackContext> callback) where T : IResourceWithArgs
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(callback);
        return builder.WithAnnotation(new CommandLineArgsCallbackAnnotation(context =>
        {
            callback(context);
            return Task.CompletedTask;
        }));
    }

    /// <summary>Passes the connection string as <c>ConnectionStrings__{name}</c>.</summary>
    public static IResourceBuilder<TDestination> WithReference<TDestination>(
        this IResourceBuilder<TDestination> builder, IResourceBuilder<IResourceWithConnectionString> source, string? connectionName = null)
        where TDestination : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        var resource = source.Resource;
        var variable = connectionName is null ? resource.ConnectionStringEnvironmentVariable : $"ConnectionStrings__{connectionName}";
        return builder
            .WithRelationship(resource, "Reference")
            .WithEnvironment(context => context.EnvironmentVariables[variable] = resource.ConnectionStringExpression);
    }

    /// <summary>
    /// Publishes every endpoint of the source as <c>services__{name}__{endpoint}__{i}</c>, one per replica, which
    /// Microsoft.Extensions.ServiceDiscovery reads: <c>http://{name}</c> then reaches all replicas. A published external
    /// endpoint is reached at its in-cluster address, not its public URL (see <see cref="AllocatedEndpoint.Internal"/>).
    /// </summary>
    public static IResourceBuilder<TDestination> WithReference<TDestination>(
        this IResourceBuilder<TDestination> builder, IResourceBuilder<IResourceWithServiceDiscovery> source)
        where TDestination : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        var resource = source.Resource;
        return builder
            .WithRelationship(resource, "Reference")
            .WithEnvironment(context =>
            {
                foreach (var endpoint in resource.AnnotationsOf<EndpointAnnotation>())
                {
                    for (var i = 0; i < endpoint.Allocated.Count; i++)
                    {
                        context.EnvironmentVariables[$"services__{resource.Name}__{endpoint.Name}__{i}"] = endpoint.Allocated[i].ForServiceDiscovery.Url;
                    }
                }
            });
    }

    /// <summary>Publishes one endpoint as <c>services__{name}__{endpoint}__0</c>.</summary>
    public static IResourceBuilder<TDestination> WithReference<TDestination>(this IResourceBuilder<TDestination> builder, EndpointReference endpoint)
        where TDestination : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(endpoint);
        return builder
            .WithRelationship(endpoint.Resource, "Reference")
            .WithEnvironment(context =>
            {
                var allocated = endpoint.Annotation.Allocated;
                for (var i = 0; i < allocated.Count; i++)
                {
                    context.EnvironmentVariables[$"services__{endpoint.Resource.Name}__{endpoint.EndpointName}__{i}"] = allocated[i].ForServiceDiscovery.Url;
                }
            });
    }

    /// <summary>Starts this resource only once <paramref name="dependency"/> is running and healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency)
        where T : IResourceWithWaitSupport
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dependency);
        return builder.WithWait(dependency.Resource, WaitType.WaitUntilHealthy, 0);
    }

    /// <summary>Starts this resource only once <paramref name="dependency"/> ran to completion with <paramref name="exitCode"/>.</summary>
    public static IResourceBuilder<T> WaitForCompletion<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency, int exitCode = 0)
        where T : IResourceWithWaitSupport
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dependency);
        return builder.WithWait(dependency.Resource, WaitType.WaitForCompletion, exitCode);
    }

    /// <summary>Runs <paramref name="replicas"/> processes of the resource; callers reach each of them.</summary>
    public static IResourceBuilder<T> WithReplicas<T>(this IResourceBuilder<T> builder, int replicas) where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (replicas is < 1 or > MaxReplicas)
        {
            // Named, because the number usually comes from configuration (--Replicas:products=0) far from this call.
            throw new ArgumentOutOfRangeException(nameof(replicas), replicas,
                $"Resource '{builder.Resource.Name}' can run 1 to {MaxReplicas} replicas, not {replicas}.");
        }

        return builder.WithAnnotation(new ReplicaAnnotation(replicas), ResourceAnnotationMutationBehavior.Replace);
    }

    /// <summary>
    /// Runs as many replicas as the setting <c>Replicas:{name}</c> says (<c>--Replicas:products=2</c>), else
    /// <paramref name="defaultReplicas"/>; a value it cannot take is an error that names the setting.
    /// </summary>
    public static IResourceBuilder<T> WithConfiguredReplicas<T>(this IResourceBuilder<T> builder, int defaultReplicas = 1) where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(builder);
        var key = KnownConfigNames.Replicas(builder.Resource.Name);
        var replicas = builder.ApplicationBuilder.Configuration.GetSetting(key, defaultReplicas);
        if (replicas is < 1 or > MaxReplicas)
        {
            throw new DistributedApplicationException($"{key} is {replicas}: '{builder.Resource.Name}' can run 1 to {MaxReplicas} replicas.");
        }

        return builder.WithReplicas(replicas);
    }

    /// <summary>Adds (or changes) an HTTP endpoint; without a port one is allocated at start.</summary>
    public static IResourceBuilder<T> WithHttpEndpoint<T>(this IResourceBuilder<T> builder, int? port = null, string? name = null, string? env = null)
        where T : IResourceWithEndpoints =>
        builder.WithEndpoint(name ?? "http", "http", port, env);

    public static IResourceBuilder<T> WithEndpoint<T>(this IResourceBuilder<T> builder, string name, string scheme, int? port = null, string? env = null, bool isExternal = false)
        where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        if (port is < IPEndPoint.MinPort + 1 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "A port is between 1 and 65535.");
        }

        if (builder.Resource.AnnotationsOf<EndpointAnnotation>().FirstOrDefault(e => e.Name == name) is { } existing)
        {
            existing.Port = port ?? existing.Port;
            existing.IsExternal |= isExternal;
            return builder;
        }

        return builder.WithAnnotation(new EndpointAnnotation(name, scheme, port, isExternal, env));
    }

    /// <summary>Marks every HTTP endpoint as an entry point for users.</summary>
    public static IResourceBuilder<T> WithExternalHttpEndpoints<T>(this IResourceBuilder<T> builder) where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var endpoint in builder.Resource.AnnotationsOf<EndpointAnnotation>().Where(e => e.UriScheme is "http" or "https"))
        {
            endpoint.IsExternal = true;
        }

        return builder.WithAnnotation(new ExternalEndpointsAnnotation(), ResourceAnnotationMutationBehavior.Replace);
    }

    public static EndpointReference GetEndpoint<T>(this IResourceBuilder<T> builder, string name) where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new EndpointReference(builder.Resource, name);
    }

    /// <summary>Healthy when <c>GET {endpoint}{path}</c> answers <paramref name="statusCode"/>.</summary>
    public static IResourceBuilder<T> WithHttpHealthCheck<T>(this IResourceBuilder<T> builder, string? path = null, int? statusCode = null, string? endpointName = null)
        where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(builder);
        var expected = statusCode ?? 200;
        var requestPath = path ?? "/";
        if (!requestPath.StartsWith('/'))
        {
            throw new ArgumentException($"The health-check path must start with '/': '{requestPath}'.", nameof(path));
        }

        var endpoint = endpointName ?? "http";
        return builder.WithAnnotation(new HealthCheckAnnotation($"GET {requestPath}", async (context, cancellationToken) =>
        {
            var url = context.GetEndpoint(endpoint).Url + requestPath;
            using var response = await HealthCheckHttp.Client.GetAsync(url, cancellationToken);
            return (int)response.StatusCode == expected
                ? HealthCheckOutcome.Healthy
                : HealthCheckOutcome.Unhealthy($"{url} answered {(int)response.StatusCode}, expected {expected}");
        })
        {
            HttpProbe = (endpoint, requestPath),
        });
    }

    public static IResourceBuilder<T> WithHealthCheck<T>(this IResourceBuilder<T> builder, string name, Func<ResourceInstanceContext, CancellationToken, Task<HealthCheckOutcome>> check)
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(check);
        return builder.WithAnnotation(new HealthCheckAnnotation(name, check));
    }

    internal static IResourceBuilder<T> WithRelationship<T>(this IResourceBuilder<T> builder, IResource resource, string type) where T : IResource
    {
        if (builder.Resource.AnnotationsOf<ResourceRelationshipAnnotation>().Any(r => ReferenceEquals(r.Resource, resource) && r.Type == type))
        {
            return builder;
        }

        return builder.WithAnnotation(new ResourceRelationshipAnnotation(resource, type));
    }

    private static IResourceBuilder<T> WithWait<T>(this IResourceBuilder<T> builder, IResource dependency, WaitType waitType, int exitCode) where T : IResource
    {
        if (ReferenceEquals(builder.Resource, dependency))
        {
            throw new ArgumentException($"'{dependency.Name}' cannot wait for itself.", nameof(dependency));
        }

        if (dependency is IValueOnlyResource)
        {
            throw new ArgumentException($"'{dependency.Name}' is a value, not something that runs: there is nothing to wait for.", nameof(dependency));
        }

        return builder
            .WithRelationship(dependency, "WaitFor")
            .WithAnnotation(new WaitAnnotation(dependency, waitType, exitCode));
    }
}

/// <summary>One client for every HTTP health probe: no proxy, short-lived connections so restarts are noticed.</summary>
internal static class HealthCheckHttp
{
    public static HttpClient Client { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromSeconds(10),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    });
}
