using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;
using Shop.Dashboard.Contracts;

namespace Shop.Dashboard.ResourceService;

public enum ResourceServiceConnection
{
    NotConfigured,
    Connecting,
    Connected,
    Disconnected,
}

/// <summary>The latest snapshot of every resource the AppHost reported, and the state of the connection to it.</summary>
public sealed class ResourceStateStore(IOptions<DashboardOptions> options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ResourceSnapshot> _resources = new(StringComparer.OrdinalIgnoreCase);
    private Action[] _subscribers = [];

    public ResourceServiceConnection Connection { get; private set; } = string.IsNullOrWhiteSpace(options.Value.ResourceServiceUrl)
        ? ResourceServiceConnection.NotConfigured
        : ResourceServiceConnection.Connecting;

    public bool IsConfigured => Connection != ResourceServiceConnection.NotConfigured;

    public IReadOnlyList<ResourceSnapshot> Resources
    {
        get
        {
            lock (_lock)
            {
                return [.. _resources.Values.OrderBy(r => r.DisplayName, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Name, StringComparer.OrdinalIgnoreCase)];
            }
        }
    }

    public IDisposable Subscribe(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_lock)
        {
            _subscribers = [.. _subscribers, callback];
        }

        return new Unsubscriber(this, callback);
    }

    internal void Apply(ResourceSnapshot snapshot)
    {
        lock (_lock)
        {
            _resources[snapshot.Name] = snapshot;
        }

        Notify();
    }

    internal void SetConnection(ResourceServiceConnection connection)
    {
        if (Connection != connection)
        {
            Connection = connection;
            Notify();
        }
    }

    private void Notify()
    {
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            subscriber();
        }
    }

    private sealed class Unsubscriber(ResourceStateStore owner, Action callback) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._subscribers = [.. owner._subscribers.Where(s => s != callback)];
            }
        }
    }
}
