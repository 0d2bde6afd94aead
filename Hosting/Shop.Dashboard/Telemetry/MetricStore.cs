using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Telemetry;

/// <summary>One time series: an instrument's points for one combination of dimension values.</summary>
internal sealed class MetricSeries(MetricInstrument instrument, string key, KeyValuePair<string, string>[] dimensions)
{
    public MetricInstrument Instrument { get; } = instrument;

    public string Key { get; } = key;

    public KeyValuePair<string, string>[] Dimensions { get; } = dimensions;

    public RingQueue<MetricPoint> Points { get; } = new();
}

internal sealed class MetricInstrument(TelemetryResource resource, string scope, string name)
{
    public TelemetryResource Resource { get; } = resource;

    public string Scope { get; } = scope;

    public string Name { get; } = name;

    public string Description { get; set; } = string.Empty;

    public string Unit { get; set; } = string.Empty;

    public InstrumentKind Kind { get; set; }

    public Dictionary<string, MetricSeries> Series { get; } = new(StringComparer.Ordinal);
}

public sealed record MetricSeriesSnapshot(IReadOnlyList<KeyValuePair<string, string>> Dimensions, IReadOnlyList<MetricPoint> Points);

public sealed record MetricInstrumentSummary(string Resource, string Scope, string Name, string Description, string Unit, InstrumentKind Kind);

public sealed record MetricInstrumentSnapshot(MetricInstrumentSummary Instrument, IReadOnlyList<MetricSeriesSnapshot> Series);

/// <summary>A metric point as received, before it is placed in its series.</summary>
internal sealed record IncomingMetricPoint(string SeriesKey, KeyValuePair<string, string>[] Dimensions, MetricPoint Point);

/// <summary>
/// Instruments per resource with their series. Data points are capped per resource and in total; the oldest points
/// are evicted first, whichever series they belong to. A series whose last point is evicted goes, and so does an
/// instrument left without series, so neither outlives its data.
/// </summary>
public sealed class MetricStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(TelemetryResource, string Scope, string Name), MetricInstrument> _instruments = [];
    private readonly ResourceBoundedBuffer<MetricSeries> _points;
    private readonly Func<int> _maxSeries;

    public MetricStore(IOptions<DashboardOptions> options)
    {
        var limits = options.Value.TelemetryLimits;
        _maxSeries = () => limits.MaxMetricSeriesPerInstrument;
        _points = new(() => limits.MaxMetricsCountPerResource, () => limits.MaxMetricsCount, Evict);
    }

    public int PointCountFor(TelemetryResource resource)
    {
        lock (_lock)
        {
            return _points.CountFor(resource);
        }
    }

    internal void Add(
        TelemetryResource resource,
        string scope,
        string name,
        string description,
        string unit,
        InstrumentKind kind,
        List<IncomingMetricPoint> points)
    {
        lock (_lock)
        {
            if (resource.Removed || points.Count == 0)
            {
                return;
            }

            if (!_instruments.TryGetValue((resource, scope, name), out var instrument))
            {
                instrument = new MetricInstrument(resource, scope, name);
                _instruments[(resource, scope, name)] = instrument;
            }

            instrument.Description = description;
            instrument.Unit = unit;
            instrument.Kind = kind;
            foreach (var incoming in points)
            {
                if (!instrument.Series.TryGetValue(incoming.SeriesKey, out var series))
                {
                    // Unbounded dimension values (ids, urls) would otherwise grow series without limit.
                    if (instrument.Series.Count >= Math.Max(1, _maxSeries()))
                    {
                        continue;
                    }

                    series = new MetricSeries(instrument, incoming.SeriesKey, incoming.Dimensions);
                    instrument.Series[incoming.SeriesKey] = series;
                }

                series.Points.Enqueue(incoming.Point);
                _points.Add(resource, series);
            }
        }
    }

    internal void Remove(TelemetryResource resource)
    {
        lock (_lock)
        {
            _points.Remove(resource);
            foreach (var key in _instruments.Keys.Where(k => k.Item1 == resource).ToList())
            {
                _instruments.Remove(key);
            }
        }
    }

    /// <param name="name">Exact instrument name (case-insensitive), or null for all.</param>
    public IReadOnlyList<MetricInstrumentSummary> GetInstruments(string? resource, string? name = null)
    {
        lock (_lock)
        {
            return [.. _instruments.Values
                .Where(i => i.Resource.Matches(resource) && (string.IsNullOrEmpty(name) || string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase)))
                .OrderBy(i => i.Resource.Id, StringComparer.OrdinalIgnoreCase)
                .ThenBy(i => i.Name, StringComparer.OrdinalIgnoreCase)
                .Select(Summarize)];
        }
    }

    /// <param name="maxPointsPerSeries">The newest points of each series to return.</param>
    public IReadOnlyList<MetricInstrumentSnapshot> GetSnapshots(string? resource, string? name, int maxPointsPerSeries)
    {
        lock (_lock)
        {
            return [.. _instruments.Values
                .Where(i => i.Resource.Matches(resource) && (string.IsNullOrEmpty(name) || string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase)))
                .OrderBy(i => i.Resource.Id, StringComparer.OrdinalIgnoreCase)
                .ThenBy(i => i.Name, StringComparer.OrdinalIgnoreCase)
                .Select(i => new MetricInstrumentSnapshot(Summarize(i), [.. i.Series.Values
                    .Where(s => s.Points.Count > 0)
                    .Select(s => new MetricSeriesSnapshot(s.Dimensions, Newest(s.Points, maxPointsPerSeries)))]))];
        }
    }

    private void Evict(MetricSeries series)
    {
        series.Points.Dequeue();
        if (series.Points.Count > 0)
        {
            return;
        }

        var instrument = series.Instrument;
        instrument.Series.Remove(series.Key);
        if (instrument.Series.Count == 0)
        {
            _instruments.Remove((instrument.Resource, instrument.Scope, instrument.Name));
        }
    }

    private static MetricInstrumentSummary Summarize(MetricInstrument instrument) =>
        new(instrument.Resource.Id, instrument.Scope, instrument.Name, instrument.Description, instrument.Unit, instrument.Kind);

    private static MetricPoint[] Newest(RingQueue<MetricPoint> points, int max)
    {
        var count = Math.Min(points.Count, Math.Max(0, max));
        var result = new MetricPoint[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = points[points.Count - count + i];
        }

        return result;
    }
}
