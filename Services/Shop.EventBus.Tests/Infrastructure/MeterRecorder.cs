using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Shop.EventBus.Tests;

/// <summary>Records the measurements of one host's <c>Shop.EventBus</c> meter (other hosts in the process have their own).</summary>
internal sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, string? Outcome)> _measurements = new();

    public MeterRecorder(IServiceProvider services)
    {
        var meter = services.GetRequiredService<EventBusTelemetry>().Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? outcome = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "shop.eventbus.outcome")
            {
                outcome = tag.Value as string;
            }
        }

        _measurements.Enqueue((instrument.Name, value, outcome));
    }

    /// <summary>The sum of a counter's measurements, optionally only those with the given outcome tag.</summary>
    public double Sum(string instrument, string? outcome = null) =>
        _measurements.Where(m => m.Instrument == instrument && (outcome is null || m.Outcome == outcome)).Sum(m => m.Value);

    public int Count(string instrument) => _measurements.Count(m => m.Instrument == instrument);

    /// <summary>The values an observable gauge reports now.</summary>
    public IReadOnlyList<double> Observe(string instrument)
    {
        var before = _measurements.Count;
        _listener.RecordObservableInstruments();
        return [.. _measurements.Skip(before).Where(m => m.Instrument == instrument).Select(m => m.Value)];
    }

    public void Dispose() => _listener.Dispose();
}
