using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Shop.Hosting.ApplicationModel;

/// <summary>The current state of every resource instance, and a stream of its changes.</summary>
public sealed class ResourceNotificationService
{
    private readonly ConcurrentDictionary<string, ResourceEvent> _latest = new(StringComparer.Ordinal);
    private readonly Lock _subscribersLock = new();
    private readonly List<Channel<ResourceEvent>> _subscribers = [];
    private readonly Lock _publishLock = new();

    /// <summary>Changes the snapshot of one instance and tells every watcher.</summary>
    public Task PublishUpdateAsync(IResource resource, string resourceId, Func<CustomResourceSnapshot, CustomResourceSnapshot> update)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceId);
        ArgumentNullException.ThrowIfNull(update);

        ResourceEvent next;
        // One writer at a time keeps each instance's sequence of snapshots in order for every watcher.
        lock (_publishLock)
        {
            var previous = _latest.TryGetValue(resourceId, out var existing)
                ? existing.Snapshot
                : new CustomResourceSnapshot { ResourceType = resource.GetType().Name.Replace("Resource", string.Empty, StringComparison.Ordinal) };
            next = new ResourceEvent(resource, resourceId, update(previous));
            _latest[resourceId] = next;

            lock (_subscribersLock)
            {
                foreach (var subscriber in _subscribers)
                {
                    subscriber.Writer.TryWrite(next);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The latest snapshot of every instance.</summary>
    public IReadOnlyList<ResourceEvent> GetCurrentSnapshots() =>
        [.. _latest.Values.OrderBy(e => e.ResourceId, StringComparer.Ordinal)];

    public bool TryGetCurrentState(string resourceId, out ResourceEvent resourceEvent) =>
        _latest.TryGetValue(resourceId, out resourceEvent!);

    /// <summary>Every instance's current snapshot, then each change as it happens.</summary>
    public async IAsyncEnumerable<ResourceEvent> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<ResourceEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_publishLock)
        {
            foreach (var current in GetCurrentSnapshots())
            {
                channel.Writer.TryWrite(current);
            }

            lock (_subscribersLock)
            {
                _subscribers.Add(channel);
            }
        }

        try
        {
            await foreach (var resourceEvent in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return resourceEvent;
            }
        }
        finally
        {
            lock (_subscribersLock)
            {
                _subscribers.Remove(channel);
            }
        }
    }

    /// <summary>
    /// Waits until every instance of the resource (or the one instance named) satisfies <paramref name="predicate"/>.
    /// </summary>
    public async Task<ResourceEvent> WaitForResourceAsync(string resourceName, Func<ResourceEvent, bool> predicate, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceName);
        ArgumentNullException.ThrowIfNull(predicate);

        await foreach (var _ in WatchAsync(cancellationToken))
        {
            var instances = InstancesOf(resourceName);
            if (instances.Count > 0 && instances.All(predicate))
            {
                return instances[0];
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new OperationCanceledException();
    }

    /// <summary>Waits until the resource reaches <paramref name="targetState"/> (e.g. <see cref="KnownResourceStates.Running"/>).</summary>
    public Task<ResourceEvent> WaitForResourceAsync(string resourceName, string targetState, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetState);
        return WaitForResourceAsync(resourceName, e => e.Snapshot.State == targetState, cancellationToken);
    }

    /// <summary>
    /// Waits until every instance of the resource is running and healthy. Fails at once, with the reason, when the
    /// resource cannot start, so a test shows why rather than timing out.
    /// </summary>
    public async Task<ResourceEvent> WaitForResourceHealthyAsync(string resourceName, CancellationToken cancellationToken = default)
    {
        var reached = await WaitForResourceAsync(
            resourceName,
            e => e.Snapshot.State == KnownResourceStates.FailedToStart
                || (e.Snapshot.State == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy),
            cancellationToken);

        var failed = InstancesOf(resourceName).FirstOrDefault(e => e.Snapshot.State == KnownResourceStates.FailedToStart);
        return failed is null
            ? reached
            : throw new DistributedApplicationException($"Resource '{failed.ResourceId}' failed to start: {failed.Snapshot.StateDescription}");
    }

    private List<ResourceEvent> InstancesOf(string resourceName) =>
        _latest.TryGetValue(resourceName, out var exact) && exact.ResourceId == resourceName && exact.Resource.ReplicaCount() == 1
            ? [exact]
            : [.. _latest.Values.Where(e => e.Resource.Name == resourceName || e.ResourceId == resourceName)];
}
