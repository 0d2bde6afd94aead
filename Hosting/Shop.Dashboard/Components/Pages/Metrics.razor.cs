using Microsoft.AspNetCore.Components;
using Shop.Dashboard.Model;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Components.Pages;

public partial class Metrics
{
    private const int MaxPointsPerSeries = 300;

    private readonly Dictionary<string, string?> _filters = new(StringComparer.Ordinal);
    private IReadOnlyList<MetricInstrumentSummary> _instruments = [];
    private MetricInstrumentSnapshot? _snapshot;
    private IReadOnlyList<MetricSeriesSnapshot> _filtered = [];
    private IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> _dimensions = [];
    private ResourceNames _names = ResourceNames.Empty;
    private ChartModel _chart = new([], DateTimeOffset.MinValue, DateTimeOffset.MinValue, 0, 0);

    [Inject]
    private MetricStore Store { get; set; } = default!;

    [Inject]
    private TelemetryResourceRegistry Registry { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "resource")]
    public string? Resource { get; set; }

    [SupplyParameterFromQuery(Name = "scope")]
    public string? Scope { get; set; }

    [SupplyParameterFromQuery(Name = "instrument")]
    public string? Instrument { get; set; }

    protected override TelemetrySignals Signals => TelemetrySignals.Metrics | TelemetrySignals.Resources;

    protected override void Refresh()
    {
        var resources = Registry.All;
        _names = new ResourceNames(resources);
        if (string.IsNullOrEmpty(Resource) && resources.Count == 1)
        {
            Resource = resources[0].Name;
        }

        _instruments = string.IsNullOrEmpty(Resource) ? [] : Store.GetInstruments(Resource);
        _snapshot = string.IsNullOrEmpty(Instrument)
            ? null
            : Store.GetSnapshots(Resource, Instrument, MaxPointsPerSeries)
                .FirstOrDefault(s => Scope is null || s.Instrument.Scope == Scope);
        if (_snapshot is null)
        {
            _filtered = [];
            _dimensions = [];
            return;
        }

        _dimensions = [.. _snapshot.Series
            .SelectMany(s => s.Dimensions)
            .GroupBy(d => d.Key, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new KeyValuePair<string, IReadOnlyList<string>>(g.Key, [.. g.Select(d => d.Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]))];
        _filtered = [.. _snapshot.Series.Where(MatchesFilters)];
        _chart = MetricChart.Build(_snapshot.Instrument.Kind, _filtered);
    }

    private bool MatchesFilters(MetricSeriesSnapshot series)
    {
        foreach (var (key, value) in _filters)
        {
            if (!string.IsNullOrEmpty(value) && !series.Dimensions.Any(d => d.Key == key && d.Value == value))
            {
                return false;
            }
        }

        return true;
    }

    private bool IsSelected(MetricInstrumentSummary instrument) =>
        instrument.Name == Instrument && (Scope is null || Scope == instrument.Scope);

    private void ResourceChanged()
    {
        Instrument = null;
        Scope = null;
        _filters.Clear();
        Refresh();
    }

    private void Select(MetricInstrumentSummary instrument)
    {
        Instrument = instrument.Name;
        Scope = instrument.Scope;
        _filters.Clear();
        Refresh();
    }

    private void SetFilter(string key, string? value)
    {
        _filters[key] = value;
        Refresh();
    }
}
