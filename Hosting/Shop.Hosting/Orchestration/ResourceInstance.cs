using System.Collections.Immutable;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Orchestration;

/// <summary>The life of one instance of a resource: wait, start, watch health, notice exit, stop.</summary>
internal sealed class ResourceInstance(IResource resource, int replicaIndex, OrchestrationServices services)
{
    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan HealthyCheckInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StartingRetryInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan UnhealthyRetryInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private ManagedProcess? _process;
    private Task _exitWatcher = Task.CompletedTask;
    private CancellationTokenSource? _runCancellation;
    private CancellationTokenSource? _waitCancellation;
    private volatile bool _everHealthy;
    private volatile bool _stopRequested;

    public IResource Resource { get; } = resource;

    public int ReplicaIndex { get; } = replicaIndex;

    public string Id { get; } = resource.ReplicaCount() > 1 ? $"{resource.Name}-{replicaIndex}" : resource.Name;

    public string State => services.Notifications.TryGetCurrentState(Id, out var current) ? current.Snapshot.State : KnownResourceStates.NotStarted;

    public Task PublishInitialAsync() => PublishAsync(s => s with
    {
        ResourceType = ResourceTypes.NameOf(Resource),
        State = KnownResourceStates.NotStarted,
        Urls = UrlSnapshots(),
        References = [.. DependencyGraph.DependenciesOf(Resource).Select(d => d.Name)],
    });

    /// <summary>Waits for the resource's dependencies, then starts it.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var waitCancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _waitCancellation = waitCancellation;
        try
        {
            foreach (var wait in Resource.AnnotationsOf<WaitAnnotation>())
            {
                await PublishAsync(s => s with { State = KnownResourceStates.Waiting, StateDescription = $"waiting for '{wait.Resource.Name}'" });
                await WaitForAsync(wait, waitCancellation.Token);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (DistributedApplicationException ex)
        {
            await FailToStartAsync(ex.Message);
            return;
        }
        finally
        {
            _waitCancellation = null;
        }

        try
        {
            await StartAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The app is stopping (Ctrl-C during start-up): StopAsync stops whatever this start got running.
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_process is { HasExited: false } || (_process is null && State == KnownResourceStates.Running))
            {
                return;
            }

            _stopRequested = false;
            _everHealthy = false;
            await PublishAsync(s => s with
            {
                State = KnownResourceStates.Starting,
                StateDescription = null,
                HealthStatus = null,
                HealthDescription = null,
                ExitCode = null,
                StopTimeStamp = null,
                ProcessId = null,
            });

            var runCancellation = new CancellationTokenSource();
            _runCancellation = runCancellation;
            if (Resource.TryGetLastAnnotation<ProcessLaunchAnnotation>(out var launch))
            {
                await StartProcessAsync(launch, runCancellation, cancellationToken);
            }
            else
            {
                var context = new ResourceInstanceContext(Resource, ReplicaIndex, services.ServiceProvider);
                foreach (var initialize in Resource.AnnotationsOf<InitializeAnnotation>())
                {
                    await initialize.Initialize(context, cancellationToken);
                }

                await PublishAsync(s => s with { State = KnownResourceStates.Running, StartTimeStamp = services.Time.GetUtcNow() });
            }

            _ = MonitorHealthAsync(runCancellation.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Every failure to start becomes a state with a readable reason; the rest of the app keeps running.
            await FailToStartAsync(ex is DistributedApplicationException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task StopAsync(TimeSpan timeout)
    {
        _waitCancellation?.Cancel();
        await _gate.WaitAsync();
        try
        {
            _stopRequested = true;
            if (_process is { HasExited: false } process)
            {
                await PublishAsync(s => s with { State = KnownResourceStates.Stopping });
                await process.StopAsync(timeout);
                await _exitWatcher;
            }
            else if (_process is null && State == KnownResourceStates.Running)
            {
                _runCancellation?.Cancel();
                await Task.WhenAll(Resource.AnnotationsOf<StopAnnotation>().Select(stop => stop.Stop(CancellationToken.None)));
                await PublishAsync(s => s with { State = KnownResourceStates.Exited, HealthStatus = null, StopTimeStamp = services.Time.GetUtcNow() });
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartProcessAsync(ProcessLaunchAnnotation launch, CancellationTokenSource runCancellation, CancellationToken cancellationToken)
    {
        EnsureFixedPortsAreFree();
        var environment = await EnvironmentBuilder.BuildAsync(Resource, ReplicaIndex, services.ExecutionContext, cancellationToken);
        var arguments = await EnvironmentBuilder.BuildArgumentsAsync(Resource, services.ExecutionContext, cancellationToken);
        var spec = await launch.Prepare(new ProcessLaunchContext(Resource, ReplicaIndex, environment, arguments, services.ServiceProvider, cancellationToken));

        var process = await ProcessSpawner.StartAsync(spec, OnOutput);
        _process = process;
        services.Registry.Add(Id, process);
        await PublishAsync(s => s with
        {
            State = KnownResourceStates.Running,
            ProcessId = process.ProcessId,
            StartTimeStamp = services.Time.GetUtcNow(),
            EnvironmentVariables = [.. environment.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new EnvironmentVariableSnapshot(e.Key, e.Value, environment.IsSecret(e.Key)))],
        });

        // Watched only after Running is published, so a process that dies at once still ends in its final state.
        _exitWatcher = WatchExitAsync(process, runCancellation);
    }

    private void OnOutput(string line, bool isStdErr)
    {
        services.Logs.Append(Id, line, isStdErr);
        services.Reporter.ResourceOutput(Id, line, isStdErr);
    }

    private async Task WatchExitAsync(ManagedProcess process, CancellationTokenSource runCancellation)
    {
        var exitCode = await process.Exited;
        await runCancellation.CancelAsync();
        services.Registry.Remove(process);

        var (state, description) = (_stopRequested, exitCode, _everHealthy) switch
        {
            (true, _, _) => (KnownResourceStates.Exited, (string?)null),
            (_, 0, _) => (KnownResourceStates.Finished, null),
            (_, _, false) when Resource.AnnotationsOf<HealthCheckAnnotation>().Any() =>
                (KnownResourceStates.FailedToStart, $"the process exited with code {exitCode} before it became healthy"),
            _ => (KnownResourceStates.Exited, $"the process exited unexpectedly with code {exitCode}"),
        };

        await PublishAsync(s => s with
        {
            State = state,
            StateDescription = description,
            ExitCode = exitCode,
            HealthStatus = null,
            StopTimeStamp = services.Time.GetUtcNow(),
        });

    }

    private async Task MonitorHealthAsync(CancellationToken cancellationToken)
    {
        var checks = Resource.AnnotationsOf<HealthCheckAnnotation>().ToList();
        if (checks.Count == 0)
        {
            _everHealthy = true;
            await PublishAsync(s => s with { HealthStatus = HealthStatus.Healthy });
            return;
        }

        var context = new ResourceInstanceContext(Resource, ReplicaIndex, services.ServiceProvider);
        var delay = TimeSpan.FromMilliseconds(100);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var failure = await RunChecksAsync(checks, context, cancellationToken);
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                var status = failure is null ? HealthStatus.Healthy : HealthStatus.Unhealthy;
                _everHealthy |= failure is null;
                if (services.Notifications.TryGetCurrentState(Id, out var current)
                    && (current.Snapshot.HealthStatus != status || current.Snapshot.HealthDescription != failure))
                {
                    await PublishAsync(s => s with { HealthStatus = status, HealthDescription = failure });
                }

                // Poll quickly until the first success so start-up is not slowed down, then settle. Before that first
                // success the wait stays short: the last resource to turn healthy decides when Ready is printed.
                var longestRetry = _everHealthy ? UnhealthyRetryInterval : StartingRetryInterval;
                delay = failure is null ? HealthyCheckInterval : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, longestRetry.Ticks));
                await Task.Delay(delay, services.Time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<string?> RunChecksAsync(List<HealthCheckAnnotation> checks, ResourceInstanceContext context, CancellationToken cancellationToken)
    {
        foreach (var check in checks)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(HealthCheckTimeout);
            try
            {
                var outcome = await check.Check(context, timeout.Token);
                if (!outcome.IsHealthy)
                {
                    return $"{check.Name}: {outcome.Description}";
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return $"{check.Name}: no answer within {HealthCheckTimeout.TotalSeconds:0} s";
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                return $"{check.Name}: {ex.Message}";
            }
        }

        return null;
    }

    private async Task WaitForAsync(WaitAnnotation wait, CancellationToken cancellationToken)
    {
        var dependency = wait.Resource.Name;
        var reached = await services.Notifications.WaitForResourceAsync(
            dependency,
            e => wait.WaitType == WaitType.WaitUntilHealthy
                ? e.Snapshot.State == KnownResourceStates.FailedToStart
                    || (e.Snapshot.State == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy)
                : KnownResourceStates.IsTerminal(e.Snapshot.State),
            cancellationToken);

        if (reached.Snapshot.State == KnownResourceStates.FailedToStart)
        {
            throw new DistributedApplicationException($"'{dependency}', which it waits for, failed to start");
        }

        if (wait.WaitType == WaitType.WaitForCompletion && reached.Snapshot.ExitCode != wait.ExitCode)
        {
            throw new DistributedApplicationException(
                $"'{dependency}', which it waits for, completed with exit code {reached.Snapshot.ExitCode} instead of {wait.ExitCode}");
        }
    }

    private void EnsureFixedPortsAreFree()
    {
        foreach (var endpoint in Resource.AnnotationsOf<EndpointAnnotation>())
        {
            var allocated = endpoint.Allocated[ReplicaIndex];
            var isFixed = endpoint.Port == allocated.Port || endpoint.DefaultPort == allocated.Port;
            if (isFixed && !PortAllocator.IsFree(allocated.Port))
            {
                throw new DistributedApplicationException(
                    $"port {allocated.Port} of endpoint '{Resource.Name}/{endpoint.Name}' is already in use by another process " +
                    $"(find it with: ss -ltnp 'sport = :{allocated.Port}'). Stop that process, or give '{Resource.Name}' another port " +
                    "(its launch profile in Properties/launchSettings.json, or WithHttpEndpoint(port: …) in the AppHost).");
            }
        }
    }

    private Task FailToStartAsync(string reason) =>
        PublishAsync(s => s with { State = KnownResourceStates.FailedToStart, StateDescription = reason, HealthStatus = null });

    private ImmutableArray<UrlSnapshot> UrlSnapshots() =>
    [
        .. Resource.AnnotationsOf<EndpointAnnotation>()
            .Where(e => e.Allocated.Count > ReplicaIndex)
            .Select(e => new UrlSnapshot(e.Name, e.Allocated[ReplicaIndex].Url, e.IsExternal)),
    ];

    private Task PublishAsync(Func<CustomResourceSnapshot, CustomResourceSnapshot> update) =>
        services.Notifications.PublishUpdateAsync(Resource, Id, update);
}
