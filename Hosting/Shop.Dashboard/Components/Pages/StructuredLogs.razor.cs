using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Logging;
using Shop.Dashboard.Model;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Components.Pages;

public partial class StructuredLogs
{
    private const int PageSize = 500;
    private static readonly LogLevel[] Levels = [LogLevel.Trace, LogLevel.Debug, LogLevel.Information, LogLevel.Warning, LogLevel.Error, LogLevel.Critical];

    private IReadOnlyList<LogEntry> _entries = [];
    private int _total;
    private long? _expanded;
    private ResourceNames _names = ResourceNames.Empty;

    [Inject]
    private LogStore Logs { get; set; } = default!;

    [Inject]
    private TelemetryResourceRegistry Registry { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "resource")]
    public string? Resource { get; set; }

    [SupplyParameterFromQuery(Name = "level")]
    public string? Level { get; set; }

    [SupplyParameterFromQuery(Name = "text")]
    public string? Text { get; set; }

    [SupplyParameterFromQuery(Name = "traceId")]
    public string? TraceId { get; set; }

    [SupplyParameterFromQuery(Name = "attribute")]
    public string? Attribute { get; set; }

    [SupplyParameterFromQuery(Name = "value")]
    public string? AttributeValue { get; set; }

    protected override TelemetrySignals Signals => TelemetrySignals.Logs | TelemetrySignals.Resources;

    protected override void Refresh()
    {
        _names = new ResourceNames(Registry.All);
        LogLevel? level = Enum.TryParse<LogLevel>(Level, ignoreCase: true, out var parsed) ? parsed : null;
        var result = Logs.Query(new LogQuery(Resource, level, Text, Attribute, AttributeValue, TraceId, PageSize));
        _entries = result.Entries;
        _total = result.TotalStored;
    }

    private void Toggle(long sequence) => _expanded = _expanded == sequence ? null : sequence;

    private static IEnumerable<KeyValuePair<string, string>> Details(LogEntry entry)
    {
        yield return new("Scope", entry.Scope);
        if (entry.EventName is not null)
        {
            yield return new("Event", entry.EventName);
        }

        if (entry.TraceId is not null)
        {
            yield return new("TraceId", entry.TraceId);
            yield return new("SpanId", entry.SpanId ?? string.Empty);
        }

        foreach (var attribute in entry.Attributes)
        {
            yield return attribute;
        }
    }
}
