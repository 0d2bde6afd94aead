using System.Net.Sockets;

namespace Shop.Hosting.ApplicationModel;

/// <summary>A network endpoint a resource listens on.</summary>
/// <param name="Name">Endpoint name (<c>http</c>, <c>https</c>, <c>tcp</c>); part of <c>services__{resource}__{endpoint}__{i}</c>.</param>
/// <param name="UriScheme">The scheme written in URLs and connection strings.</param>
/// <param name="Port">A fixed port, or null for one allocated at start.</param>
/// <param name="IsExternal">Whether the endpoint is meant for users (shown as a link, printed at start).</param>
public sealed class EndpointAnnotation(
    string name,
    string uriScheme = "http",
    int? port = null,
    bool isExternal = false,
    string? environmentVariable = null) : IResourceAnnotation
{
    public string Name { get; } = name;

    public string UriScheme { get; } = uriScheme;

    public ProtocolType Protocol => ProtocolType.Tcp;

    /// <summary>A port asked for explicitly: always used, also under test.</summary>
    public int? Port { get; set; } = port;

    /// <summary>The port of the project's launch profile: used in run mode, replaced by a free one under test.</summary>
    public int? DefaultPort { get; set; }

    public bool IsExternal { get; set; } = isExternal;

    /// <summary>When set, the allocated port is passed to the process in this variable (e.g. <c>PORT</c>).</summary>
    public string? EnvironmentVariable { get; } = environmentVariable;

    /// <summary>One allocation per replica, filled in by the orchestrator before anything starts.</summary>
    public List<AllocatedEndpoint> Allocated { get; } = [];
}

public sealed record AllocatedEndpoint(string Host, int Port, string UriScheme)
{
    /// <summary>
    /// Where other resources reach this endpoint when users are given another address: a published external endpoint
    /// has a public URL, and its neighbours in the cluster call its Service instead. Null: the same address.
    /// </summary>
    public AllocatedEndpoint? Internal { get; init; }

    /// <summary>The address service discovery hands to the resources that reference this one.</summary>
    public AllocatedEndpoint ForServiceDiscovery => Internal ?? this;

    /// <summary>The URL, without the port when it is the scheme's default (a public https address).</summary>
    public string Url => (UriScheme, Port) is ("http", 80) or ("https", 443) ? $"{UriScheme}://{Host}" : $"{UriScheme}://{Host}:{Port}";

    public override string ToString() => Url;
}

/// <summary>Adds environment variables when a process of the resource is about to start.</summary>
public sealed class EnvironmentCallbackAnnotation(Func<EnvironmentCallbackContext, Task> callback) : IResourceAnnotation
{
    public EnvironmentCallbackAnnotation(string name, Func<string?> value)
        : this(context =>
        {
            context.EnvironmentVariables[name] = value() ?? string.Empty;
            return Task.CompletedTask;
        })
    {
    }

    public Func<EnvironmentCallbackContext, Task> Callback { get; } = callback;
}

public sealed class EnvironmentCallbackContext(
    DistributedApplicationExecutionContext executionContext,
    IResource resource,
    int replicaIndex,
    CancellationToken cancellationToken)
{
    public DistributedApplicationExecutionContext ExecutionContext { get; } = executionContext;

    public IResource Resource { get; } = resource;

    public int ReplicaIndex { get; } = replicaIndex;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Values are strings or <see cref="IValueProvider"/>s resolved just before the process starts.</summary>
    public Dictionary<string, object> EnvironmentVariables { get; } = new(StringComparer.Ordinal);
}

/// <summary>Adds command-line arguments when a process of the resource is about to start.</summary>
public sealed class CommandLineArgsCallbackAnnotation(Func<CommandLineArgsCallbackContext, Task> callback) : IResourceAnnotation
{
    public Func<CommandLineArgsCallbackContext, Task> Callback { get; } = callback;
}

public sealed class CommandLineArgsCallbackContext(
    DistributedApplicationExecutionContext executionContext,
    IResource resource,
    CancellationToken cancellationToken)
{
    public DistributedApplicationExecutionContext ExecutionContext { get; } = executionContext;

    public IResource Resource { get; } = resource;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Strings or <see cref="IValueProvider"/>s.</summary>
    public List<object> Args { get; } = [];
}

public enum WaitType
{
    /// <summary>Wait until the resource is running and every health check passes.</summary>
    WaitUntilHealthy,

    /// <summary>Wait until the resource ran to completion (exit code 0 unless told otherwise).</summary>
    WaitForCompletion,
}

public sealed record WaitAnnotation(IResource Resource, WaitType WaitType, int ExitCode = 0) : IResourceAnnotation;

public sealed record ReplicaAnnotation(int Replicas) : IResourceAnnotation;

/// <summary>Why two resources are connected; shown in the dashboard.</summary>
public sealed record ResourceRelationshipAnnotation(IResource Resource, string Type) : IResourceAnnotation;

/// <summary>A health probe run against one running instance of a resource.</summary>
public sealed class HealthCheckAnnotation(string name, Func<ResourceInstanceContext, CancellationToken, Task<HealthCheckOutcome>> check)
    : IResourceAnnotation
{
    public string Name { get; } = name;

    public Func<ResourceInstanceContext, CancellationToken, Task<HealthCheckOutcome>> Check { get; } = check;

    /// <summary>For an HTTP probe: the path and endpoint, so a publisher can turn it into a readiness probe.</summary>
    public (string EndpointName, string Path)? HttpProbe { get; init; }
}

public sealed record HealthCheckOutcome(bool IsHealthy, string? Description = null)
{
    public static HealthCheckOutcome Healthy { get; } = new(true);

    public static HealthCheckOutcome Unhealthy(string description) => new(false, description);
}

/// <summary>What a health check knows about the instance it probes.</summary>
public sealed class ResourceInstanceContext(IResource resource, int replicaIndex, IServiceProvider services)
{
    public IResource Resource { get; } = resource;

    public int ReplicaIndex { get; } = replicaIndex;

    public IServiceProvider Services { get; } = services;

    public AllocatedEndpoint GetEndpoint(string endpointName)
    {
        var annotation = Resource.AnnotationsOf<EndpointAnnotation>().FirstOrDefault(e => e.Name == endpointName)
            ?? throw new InvalidOperationException($"Resource '{Resource.Name}' has no endpoint named '{endpointName}'.");
        return annotation.Allocated.Count > ReplicaIndex
            ? annotation.Allocated[ReplicaIndex]
            : throw new InvalidOperationException($"Endpoint '{Resource.Name}/{endpointName}' has not been allocated yet.");
    }
}

/// <summary>Marks a resource whose endpoints the terminal and dashboard print as entry points.</summary>
public sealed record ExternalEndpointsAnnotation : IResourceAnnotation;
