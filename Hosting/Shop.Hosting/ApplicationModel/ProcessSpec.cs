namespace Shop.Hosting.ApplicationModel;

/// <summary>How to launch one process of a resource.</summary>
public sealed record ProcessSpec(string FileName)
{
    public IReadOnlyList<string> Arguments { get; init; } = [];

    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set on top of the AppHost's own environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Variables of the AppHost's environment the process must not inherit.</summary>
    public IReadOnlyList<string> RemoveEnvironment { get; init; } = [];

    /// <summary>Run as this OS user (the AppHost must be root); PostgreSQL refuses to run as root.</summary>
    public string? RunAsUser { get; init; }

    /// <summary>The signal that asks the process to stop gracefully (PostgreSQL: SIGINT, a fast shutdown).</summary>
    public int StopSignal { get; init; } = 15;

    /// <summary>Written to the process's standard input, which is then closed: how secrets reach a process without
    /// appearing in its command line.</summary>
    public string? StandardInput { get; init; }
}

/// <summary>What a resource needs to build its process.</summary>
public sealed class ProcessLaunchContext(
    IResource resource,
    int replicaIndex,
    IReadOnlyDictionary<string, string> environment,
    IReadOnlyList<string> arguments,
    IServiceProvider services,
    CancellationToken cancellationToken)
{
    public IResource Resource { get; } = resource;

    public int ReplicaIndex { get; } = replicaIndex;

    /// <summary>The resolved environment from the resource's <see cref="EnvironmentCallbackAnnotation"/>s.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; } = environment;

    /// <summary>The resolved arguments from the resource's <see cref="CommandLineArgsCallbackAnnotation"/>s.</summary>
    public IReadOnlyList<string> Arguments { get; } = arguments;

    public IServiceProvider Services { get; } = services;

    public CancellationToken CancellationToken { get; } = cancellationToken;
}

/// <summary>Marks a resource that runs as processes, and says how to prepare each one (e.g. run initdb first).</summary>
public sealed class ProcessLaunchAnnotation(Func<ProcessLaunchContext, Task<ProcessSpec>> prepare) : IResourceAnnotation
{
    public Func<ProcessLaunchContext, Task<ProcessSpec>> Prepare { get; } = prepare;
}

/// <summary>Work done when a resource without a process starts (e.g. creating a database in its server).</summary>
public sealed class InitializeAnnotation(Func<ResourceInstanceContext, CancellationToken, Task> initialize) : IResourceAnnotation
{
    public Func<ResourceInstanceContext, CancellationToken, Task> Initialize { get; } = initialize;
}

/// <summary>
/// Work done when a resource without a process is stopped, so that it is stopped indeed (a database then refuses
/// connections); a start runs its <see cref="InitializeAnnotation"/> again, which undoes it.
/// </summary>
public sealed class StopAnnotation(Func<CancellationToken, Task> stop) : IResourceAnnotation
{
    public Func<CancellationToken, Task> Stop { get; } = stop;
}

/// <summary>A resource that exists only as a value (parameters): nothing runs, nothing is shown as running.</summary>
public interface IValueOnlyResource : IResource;
