using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Apis;

public sealed record TelemetryResourceDto(
    string Id,
    string Name,
    string InstanceId,
    DateTimeOffset FirstSeen,
    int LogCount,
    int SpanCount,
    int MetricPointCount,
    IReadOnlyDictionary<string, string> Attributes);

public sealed record LogEntryDto(
    long Sequence,
    DateTimeOffset Timestamp,
    string Resource,
    string Level,
    string Message,
    string Scope,
    string? EventName,
    string? TraceId,
    string? SpanId,
    IReadOnlyDictionary<string, string> Attributes);

public sealed record LogListDto(IReadOnlyList<LogEntryDto> Logs, int TotalStored);

public sealed record TraceSummaryDto(
    string TraceId,
    string Name,
    DateTimeOffset Start,
    double DurationMs,
    int SpanCount,
    int ErrorCount,
    IReadOnlyList<string> Resources);

public sealed record TraceListDto(IReadOnlyList<TraceSummaryDto> Traces, int MatchCount, int TotalStored);

public sealed record SpanEventDto(DateTimeOffset Timestamp, string Name, IReadOnlyDictionary<string, string> Attributes);

public sealed record SpanLinkDto(string TraceId, string SpanId, IReadOnlyDictionary<string, string> Attributes);

public sealed record SpanDto(
    string SpanId,
    string? ParentSpanId,
    string Name,
    string Kind,
    string Resource,
    string Scope,
    DateTimeOffset Start,
    double DurationMs,
    string Status,
    string? StatusMessage,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<SpanEventDto> Events,
    IReadOnlyList<SpanLinkDto> Links);

public sealed record TraceDto(TraceSummaryDto Summary, IReadOnlyList<SpanDto> Spans);

/// <summary>NaN and ±Infinity (which OTLP allows but JSON cannot carry) are written as null.</summary>
public sealed record MetricPointDto(DateTimeOffset Time, double? Value, ulong? Count, double? Sum);

public sealed record MetricSeriesDto(IReadOnlyDictionary<string, string> Dimensions, IReadOnlyList<MetricPointDto> Points);

public sealed record MetricInstrumentDto(
    string Resource,
    string Scope,
    string Name,
    string Description,
    string Unit,
    string Kind,
    IReadOnlyList<MetricSeriesDto> Series);

internal static class TelemetryApiMapping
{
    public static IReadOnlyDictionary<string, string> ToDictionary(this IEnumerable<KeyValuePair<string, string>> attributes)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in attributes)
        {
            result.TryAdd(key, value);
        }

        return result;
    }

    public static LogEntryDto ToDto(this LogEntry entry) => new(
        entry.Sequence, entry.Timestamp, entry.Resource.Id, entry.Level.ToString(), entry.Message, entry.Scope,
        entry.EventName, entry.TraceId, entry.SpanId, entry.Attributes.ToDictionary());

    public static TraceSummaryDto ToDto(this TraceSummary summary) => new(
        summary.TraceId, summary.Name, summary.Start, summary.Duration.TotalMilliseconds, summary.SpanCount, summary.ErrorCount, summary.Resources);

    public static SpanDto ToDto(this SpanData span) => new(
        span.SpanId, span.ParentSpanId, span.Name, span.Kind.ToString(), span.Resource.Id, span.Scope, span.Start,
        span.Duration.TotalMilliseconds, span.Status.ToString(), span.StatusMessage, span.Attributes.ToDictionary(),
        [.. span.Events.Select(e => new SpanEventDto(e.Timestamp, e.Name, e.Attributes.ToDictionary()))],
        [.. span.Links.Select(l => new SpanLinkDto(l.TraceId, l.SpanId, l.Attributes.ToDictionary()))]);

    public static MetricInstrumentDto ToDto(this MetricInstrumentSnapshot snapshot) => new(
        snapshot.Instrument.Resource, snapshot.Instrument.Scope, snapshot.Instrument.Name, snapshot.Instrument.Description,
        snapshot.Instrument.Unit, snapshot.Instrument.Kind.ToString(),
        [.. snapshot.Series.Select(s => new MetricSeriesDto(s.Dimensions.ToDictionary(), [.. s.Points.Select(p => new MetricPointDto(p.Time, Finite(p.Value), p.Count, Finite(p.Sum)))]))]);

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;
}
