using System.Globalization;
using Microsoft.AspNetCore.Components;
using Shop.Dashboard.Model;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Components.Pages;

public partial class TraceDetail
{
    private Telemetry.TraceDetail? _trace;
    private IReadOnlyList<WaterfallRow> _rows = [];
    private SpanData? _selected;
    private ResourceNames _names = ResourceNames.Empty;

    [Parameter]
    public string TraceId { get; set; } = string.Empty;

    [Inject]
    private TraceStore Store { get; set; } = default!;

    [Inject]
    private TelemetryResourceRegistry Registry { get; set; } = default!;

    protected override TelemetrySignals Signals => TelemetrySignals.Traces;

    protected override void Refresh()
    {
        _names = new ResourceNames(Registry.All);
        _trace = Store.Get(TraceId);
        _rows = _trace is null ? [] : TraceWaterfall.Build(_trace.Spans);
        if (_selected is not null && _trace is not null)
        {
            _selected = _trace.Spans.FirstOrDefault(s => s.SpanId == _selected.SpanId);
        }
    }

    private static string Percent(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
