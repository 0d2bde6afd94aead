using System.Globalization;
using Microsoft.AspNetCore.Components;
using Shop.Dashboard.Model;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Components.Pages;

public partial class Traces
{
    private const int PageSize = 100;

    private TraceListResult _result = new([], 0, 0);
    private int _page;
    private ResourceNames _names = ResourceNames.Empty;

    [Inject]
    private TraceStore Store { get; set; } = default!;

    [Inject]
    private TelemetryResourceRegistry Registry { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "resource")]
    public string? Resource { get; set; }

    [SupplyParameterFromQuery(Name = "name")]
    public string? Name { get; set; }

    [SupplyParameterFromQuery(Name = "minDurationMs")]
    public double? MinDurationMs { get; set; }

    protected override TelemetrySignals Signals => TelemetrySignals.Traces | TelemetrySignals.Resources;

    private int PageCount => Math.Max(1, (_result.MatchCount + PageSize - 1) / PageSize);

    protected override void Refresh()
    {
        _names = new ResourceNames(Registry.All);
        _result = Store.Query(new TraceQuery(Resource, Name, MinDurationMs, _page * PageSize, PageSize));
    }

    private void FilterChanged()
    {
        _page = 0;
        Refresh();
    }

    private void GoTo(int page)
    {
        _page = Math.Max(0, page);
        Refresh();
    }

    private string BarWidth(TraceSummary trace)
    {
        var longest = _result.Traces.Count == 0 ? 0 : _result.Traces.Max(t => t.Duration.Ticks);
        var width = longest == 0 ? 0 : 100.0 * trace.Duration.Ticks / longest;
        return Math.Max(1, width).ToString("0.#", CultureInfo.InvariantCulture);
    }
}
