namespace Shop.Dashboard.Telemetry;

[Flags]
public enum TelemetrySignals
{
    None = 0,
    Logs = 1,
    Traces = 2,
    Metrics = 4,
    Resources = 8,
    All = Logs | Traces | Metrics | Resources,
}

/// <summary>
/// Tells the UI that telemetry arrived. Callbacks run on the ingesting thread, so they must only note the change
/// (pages throttle and re-query on their own schedule).
/// </summary>
public sealed class TelemetryChangeNotifier
{
    private readonly Lock _lock = new();
    private Subscription[] _subscriptions = [];

    public IDisposable Subscribe(TelemetrySignals signals, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var subscription = new Subscription(this, signals, callback);
        lock (_lock)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    public void Notify(TelemetrySignals signals)
    {
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            if ((subscription.Signals & signals) != 0)
            {
                subscription.Callback();
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_lock)
        {
            _subscriptions = [.. _subscriptions.Where(s => s != subscription)];
        }
    }

    private sealed class Subscription(TelemetryChangeNotifier owner, TelemetrySignals signals, Action callback) : IDisposable
    {
        public TelemetrySignals Signals => signals;

        public Action Callback => callback;

        public void Dispose() => owner.Remove(this);
    }
}
