using System.Diagnostics;
using System.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Dashboard;

namespace Shop.Hosting.Orchestration;

/// <summary>The services every resource instance uses.</summary>
internal sealed record OrchestrationServices(
    ResourceNotificationService Notifications,
    ResourceLoggerService Logs,
    ConsoleReporter Reporter,
    ProcessRegistry Registry,
    DistributedApplicationExecutionContext ExecutionContext,
    TimeProvider Time,
    IServiceProvider ServiceProvider);

/// <summary>
/// Runs the app model on this machine (DCP's role): allocates ports, starts resources in dependency order and
/// independent ones in parallel, and stops them in reverse order.
/// </summary>
internal sealed class ApplicationOrchestrator(
    DistributedApplicationModel model,
    OrchestrationSettings settings,
    DataDirectories directories,
    OrchestrationServices services) : IHostedService
{
    private readonly List<ResourceInstance> _instances = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _reporting = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _runs = [];
    private int _stopRequested;

    public IReadOnlyList<ResourceInstance> Instances => _instances;

    public TimeSpan ResourceStopTimeout => settings.ResourceStopTimeout;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var startedAt = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        AllocateEndpoints();

        foreach (var resource in model.Resources.Where(r => r is not IValueOnlyResource))
        {
            for (var replica = 0; replica < resource.ReplicaCount(); replica++)
            {
                _instances.Add(new ResourceInstance(resource, replica, services));
            }
        }

        services.Reporter.SetNameWidth(_instances.Count == 0 ? 0 : _instances.Max(i => i.Id.Length));
        _ = ReportProgressAsync(_reporting.Token);
        foreach (var instance in _instances)
        {
            await instance.PublishInitialAsync();
        }

        foreach (var instance in _instances)
        {
            _runs.Add(Task.Run(() => instance.RunAsync(_stopping.Token), CancellationToken.None));
        }

        _ = ReportWhenReadyAsync(startedAt, _stopping.Token);
    }

    public Task StopAsync(CancellationToken cancellationToken) => StopAllAsync(cancellationToken);

    /// <summary>Stops every instance, dependents before their dependencies; safe to call more than once.</summary>
    public async Task StopAllAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 1)
        {
            await _stopped.Task.WaitAsync(cancellationToken);
            return;
        }

        try
        {
            await _stopping.CancelAsync();
            var running = model.Resources.Where(r => r is not IValueOnlyResource).ToList();
            foreach (var wave in DependencyGraph.StopWaves(running))
            {
                await Task.WhenAll(_instances.Where(i => wave.Contains(i.Resource)).Select(i => i.StopAsync(settings.ResourceStopTimeout)));
            }

            await Task.WhenAll(_runs);
            directories.DeleteSession();
        }
        finally
        {
            // Progress is reported until the last resource has stopped, so the terminal shows the whole shutdown.
            await _reporting.CancelAsync();
            _stopped.TrySetResult();
        }
    }

    /// <summary>The instances of a resource, or the one instance with that id.</summary>
    public IReadOnlyList<ResourceInstance> Find(string name) =>
        [.. _instances.Where(i => i.Id == name || i.Resource.Name == name)];

    /// <summary>Until the instance runs and is healthy again; fails with the reason when it could not start.</summary>
    public Task WaitUntilHealthyAsync(ResourceInstance instance, CancellationToken cancellationToken) =>
        services.Notifications.WaitForResourceHealthyAsync(instance.Id, cancellationToken);

    private void AllocateEndpoints()
    {
        foreach (var resource in model.Resources)
        {
            foreach (var endpoint in resource.AnnotationsOf<EndpointAnnotation>())
            {
                endpoint.Allocated.Clear();
                var host = endpoint.UriScheme is "http" or "https" ? "localhost" : "127.0.0.1";
                for (var replica = 0; replica < resource.ReplicaCount(); replica++)
                {
                    // A fixed port can serve only one replica; the others get free ports.
                    var port = replica == 0 ? endpoint.Port ?? (settings.RandomizePorts ? null : endpoint.DefaultPort) : null;
                    endpoint.Allocated.Add(new AllocatedEndpoint(host, port ?? PortAllocator.AllocateFreePort(), endpoint.UriScheme));
                }
            }
        }
    }

    private async Task ReportProgressAsync(CancellationToken cancellationToken)
    {
        var previous = new Dictionary<string, CustomResourceSnapshot>(StringComparer.Ordinal);
        try
        {
            await foreach (var resourceEvent in services.Notifications.WatchAsync(cancellationToken))
            {
                previous.TryGetValue(resourceEvent.ResourceId, out var before);
                services.Reporter.Progress(resourceEvent, before);
                previous[resourceEvent.ResourceId] = resourceEvent.Snapshot;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReportWhenReadyAsync(DateTime startedAt, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var _ in services.Notifications.WatchAsync(cancellationToken))
            {
                var snapshots = _instances.Select(Snapshot).ToList();
                if (!snapshots.All(s => IsHealthy(s) || s.State is KnownResourceStates.FailedToStart or KnownResourceStates.Finished or KnownResourceStates.Exited))
                {
                    continue;
                }

                var healthy = snapshots.Count(s => IsHealthy(s) || s.State == KnownResourceStates.Finished);
                if (healthy == snapshots.Count)
                {
                    var external = _instances
                        .SelectMany(i => i.Resource.AnnotationsOf<EndpointAnnotation>()
                            .Where(e => e.IsExternal && e.Allocated.Count > i.ReplicaIndex)
                            .Select(e => (i.Id, e.Allocated[i.ReplicaIndex].Url)))
                        .ToList();
                    services.Reporter.Ready(healthy, DateTime.UtcNow - startedAt, external);
                }
                else
                {
                    var problems = _instances
                        .Select(i => (i.Id, Snapshot: Snapshot(i)))
                        .Where(p => !IsHealthy(p.Snapshot) && p.Snapshot.State != KnownResourceStates.Finished)
                        .Select(p => $"{p.Id}: {p.Snapshot.State}{(p.Snapshot.StateDescription is { } why ? $" ({why})" : string.Empty)}")
                        .ToList();
                    services.Reporter.StartedWithProblems(healthy, snapshots.Count, problems);
                }

                TrimStartupMemory();
                return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Once everything has started, collects what starting it left behind (the app model, PostgreSQL's preparation,
    /// the resources' start-up output) and gives the freed memory back, as the services do after their own start
    /// (Shop.ServiceDefaults' StartupMemoryTrim). Not under test: there the AppHost shares the test runner's heap.
    /// </summary>
    private void TrimStartupMemory()
    {
        if (services.ExecutionContext.IsTesting)
        {
            return;
        }

        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private CustomResourceSnapshot Snapshot(ResourceInstance instance) =>
        services.Notifications.TryGetCurrentState(instance.Id, out var current)
            ? current.Snapshot
            : new CustomResourceSnapshot { ResourceType = ResourceTypes.NameOf(instance.Resource) };

    private static bool IsHealthy(CustomResourceSnapshot snapshot) =>
        snapshot.State == KnownResourceStates.Running && snapshot.HealthStatus == HealthStatus.Healthy;
}

/// <summary>Start, stop or restart one resource (all its replicas) or one instance.</summary>
public sealed class ResourceCommandService
{
    private readonly ApplicationOrchestrator _orchestrator;

    internal ResourceCommandService(ApplicationOrchestrator orchestrator) => _orchestrator = orchestrator;

    public Task StartAsync(string resourceName, CancellationToken cancellationToken = default) =>
        ExecuteCommandAsync(resourceName, Shop.Dashboard.Contracts.ResourceCommands.Start, cancellationToken);

    public Task StopAsync(string resourceName, CancellationToken cancellationToken = default) =>
        ExecuteCommandAsync(resourceName, Shop.Dashboard.Contracts.ResourceCommands.Stop, cancellationToken);

    public Task RestartAsync(string resourceName, CancellationToken cancellationToken = default) =>
        ExecuteCommandAsync(resourceName, Shop.Dashboard.Contracts.ResourceCommands.Restart, cancellationToken);

    /// <summary>
    /// Runs <c>start</c>, <c>stop</c> or <c>restart</c> on every matching instance: at once, except a restart of several
    /// replicas, which goes one replica at a time.
    /// </summary>
    public async Task ExecuteCommandAsync(string resourceName, string commandName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceName);
        ArgumentException.ThrowIfNullOrWhiteSpace(commandName);

        var instances = _orchestrator.Find(resourceName);
        if (instances.Count == 0)
        {
            throw new DistributedApplicationException($"There is no resource named '{resourceName}'.");
        }

        var stopTimeout = _orchestrator.ResourceStopTimeout;
        if (commandName == Shop.Dashboard.Contracts.ResourceCommands.Restart && instances.Count > 1)
        {
            // Replicas restart one at a time, each serving again before the next stops, so the service never goes
            // away; a replica that fails to start ends the restart with the others still running.
            foreach (var instance in instances)
            {
                await instance.StopAsync(stopTimeout);
                await instance.StartAsync(cancellationToken);
                await _orchestrator.WaitUntilHealthyAsync(instance, cancellationToken);
            }

            return;
        }

        await Task.WhenAll(instances.Select(async instance =>
        {
            switch (commandName)
            {
                case Shop.Dashboard.Contracts.ResourceCommands.Start:
                    await instance.StartAsync(cancellationToken);
                    break;
                case Shop.Dashboard.Contracts.ResourceCommands.Stop:
                    await instance.StopAsync(stopTimeout);
                    break;
                case Shop.Dashboard.Contracts.ResourceCommands.Restart:
                    await instance.StopAsync(stopTimeout);
                    await instance.StartAsync(cancellationToken);
                    break;
                default:
                    throw new DistributedApplicationException(
                        $"Unknown command '{commandName}': use {Shop.Dashboard.Contracts.ResourceCommands.Start}, {Shop.Dashboard.Contracts.ResourceCommands.Stop} or {Shop.Dashboard.Contracts.ResourceCommands.Restart}.");
            }
        }));
    }

    /// <summary>Whether a resource or instance of that name exists.</summary>
    public bool Exists(string resourceName) => _orchestrator.Find(resourceName).Count > 0;
}

internal static class OrchestrationServiceCollectionExtensions
{
    public static IServiceCollection AddHostingOrchestration(this IServiceCollection services, OrchestrationSettings settings, DashboardOptions? dashboard)
    {
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ResourceNotificationService>();
        services.AddSingleton<ResourceLoggerService>();
        services.AddSingleton<ConsoleReporter>();
        services.AddSingleton<DataDirectories>();
        services.AddSingleton<ProcessRegistry>();
        // First: it takes the data directory, and nothing else may start while another AppHost has it.
        services.AddHostedService(sp => sp.GetRequiredService<ProcessRegistry>());
        services.AddSingleton(sp => new OrchestrationServices(
            sp.GetRequiredService<ResourceNotificationService>(),
            sp.GetRequiredService<ResourceLoggerService>(),
            sp.GetRequiredService<ConsoleReporter>(),
            sp.GetRequiredService<ProcessRegistry>(),
            sp.GetRequiredService<DistributedApplicationExecutionContext>(),
            sp.GetRequiredService<TimeProvider>(),
            sp));
        services.AddSingleton<ApplicationOrchestrator>();
        // Hosted services stop in reverse order: the dashboard and its resource service outlive every resource.
        if (dashboard is not null)
        {
            services.AddSingleton(dashboard);
            services.AddSingleton<ResourceServiceHost>();
            services.AddHostedService(sp => sp.GetRequiredService<ResourceServiceHost>());
            services.AddHostedService<DashboardLauncher>();
        }

        services.AddHostedService(sp => sp.GetRequiredService<ApplicationOrchestrator>());
        services.AddSingleton(sp => new ResourceCommandService(sp.GetRequiredService<ApplicationOrchestrator>()));
        return services;
    }
}
