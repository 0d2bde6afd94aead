using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Shop.EventBus;

/// <summary>
/// The bus's traces and metrics, both named <c>Shop.EventBus</c>. <c>AddEventBus</c> adds them to the app's
/// OpenTelemetry tracing and metrics, so <c>AddServiceDefaults</c>' exporters send them with everything else.
/// </summary>
public sealed class EventBusTelemetry : IDisposable
{
    public const string Name = "Shop.EventBus";

    internal static readonly ActivitySource ActivitySource = new(Name);

    private readonly ConcurrentDictionary<string, (long Count, double OldestAgeSeconds)> _backlog = new(StringComparer.Ordinal);

    public EventBusTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(Name);
        Published = Meter.CreateCounter<long>("shop.eventbus.messages.published", "{message}",
            "Events the outbox relay published and Kafka acknowledged.");
        PublishFailed = Meter.CreateCounter<long>("shop.eventbus.messages.publish_failed", "{message}",
            "Events Kafka did not acknowledge; they stay in the outbox and are retried.");
        Consumed = Meter.CreateCounter<long>("shop.eventbus.messages.consumed", "{message}",
            "Messages the consumer finished with, by outcome: processed, duplicate (already in the inbox), ignored (no handler here), dead_lettered.");
        Retried = Meter.CreateCounter<long>("shop.eventbus.messages.retried", "{attempt}",
            "Handler attempts that failed and were retried after a backoff.");
        DeadLettered = Meter.CreateCounter<long>("shop.eventbus.messages.dead_lettered", "{message}",
            "Messages sent to the dead-letter topic after their last attempt failed.");
        OutboxDelay = Meter.CreateHistogram<double>("shop.eventbus.outbox.delay", "s",
            "Time from adding an event to the outbox to Kafka acknowledging it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        ProcessDuration = Meter.CreateHistogram<double>("shop.eventbus.process.duration", "s",
            "Time to handle one message, retries included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        Meter.CreateObservableGauge("shop.eventbus.outbox.backlog", () => ObserveBacklog(b => b.Count), "{message}",
            "Events committed to the outbox and not yet published (reported by the replica running the relay).");
        Meter.CreateObservableGauge("shop.eventbus.outbox.oldest_age", () => ObserveBacklog(b => b.OldestAgeSeconds), "s",
            "Age of the oldest unpublished event in the outbox (reported by the replica running the relay).");
    }

    public Meter Meter { get; }

    internal Counter<long> Published { get; }

    internal Counter<long> PublishFailed { get; }

    internal Counter<long> Consumed { get; }

    internal Counter<long> Retried { get; }

    internal Counter<long> DeadLettered { get; }

    internal Histogram<double> OutboxDelay { get; }

    internal Histogram<double> ProcessDuration { get; }

    /// <summary>Set by the relay while it leads; a standby clears it, so replicas do not report the same backlog twice.</summary>
    internal void SetBacklog(string context, long count, TimeSpan oldestAge) => _backlog[context] = (count, oldestAge.TotalSeconds);

    internal void ClearBacklog(string context) => _backlog.TryRemove(context, out _);

    private IEnumerable<Measurement<T>> ObserveBacklog<T>(Func<(long Count, double OldestAgeSeconds), T> value) where T : struct =>
        _backlog.Select(entry => new Measurement<T>(value(entry.Value), new KeyValuePair<string, object?>("shop.eventbus.outbox", entry.Key)));

    public void Dispose() => Meter.Dispose();
}
